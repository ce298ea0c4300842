package main

import (
	"encoding/binary"
	"testing"
)

func TestAttrPadding(t *testing.T) {
	tests := []struct {
		payload  int
		wantLen  uint16 // nla_len: header + payload, unpadded
		wantSize int    // bytes on the wire, padded to 4
	}{
		{0, 4, 4}, {1, 5, 8}, {4, 8, 8}, {5, 9, 12}, {8, 12, 12},
	}
	for _, tt := range tests {
		b := attr(7, make([]byte, tt.payload))
		if got := binary.NativeEndian.Uint16(b[0:2]); got != tt.wantLen || len(b) != tt.wantSize {
			t.Errorf("attr(%d bytes): nla_len %d, size %d; want %d, %d", tt.payload, got, len(b), tt.wantLen, tt.wantSize)
		}
		if typ := binary.NativeEndian.Uint16(b[2:4]); typ != 7 {
			t.Errorf("attr type %d, want 7", typ)
		}
	}
}

func TestVerdictMessage(t *testing.T) {
	m := verdictMessage(4242, 0xdeadbeef, verdictAccept)
	if got := binary.NativeEndian.Uint32(m[0:4]); int(got) != len(m) {
		t.Fatalf("nlmsg_len %d, message %d bytes", got, len(m))
	}
	if typ := binary.NativeEndian.Uint16(m[4:6]); typ != msgVerdict {
		t.Errorf("type %#x, want %#x", typ, msgVerdict)
	}
	if q := binary.BigEndian.Uint16(m[nlmsgHdrLen+2 : nlmsgHdrLen+4]); q != 4242 {
		t.Errorf("res_id %d, want 4242", q)
	}
	hdr := m[nlmsgHdrLen+nfgenmsgLen+4:]
	if v, id := binary.BigEndian.Uint32(hdr[0:4]), binary.BigEndian.Uint32(hdr[4:8]); v != verdictAccept || id != 0xdeadbeef {
		t.Errorf("verdict %d id %#x, want %d %#x", v, id, verdictAccept, 0xdeadbeef)
	}
}

// packetMessage builds what the kernel sends for one queued packet.
func packetMessage(id uint32) []byte {
	hdr := make([]byte, 7) // packet_id, hw_protocol, hook
	binary.BigEndian.PutUint32(hdr, id)
	return message(msgPacket, 0, 0, 1, attr(attrPacketHdr, hdr), attr(10, []byte{1, 2, 3}))
}

func TestParseMessages(t *testing.T) {
	ack := make([]byte, nlmsgHdrLen+4)
	binary.NativeEndian.PutUint32(ack[0:4], uint32(len(ack)))
	binary.NativeEndian.PutUint16(ack[4:6], 2) // NLMSG_ERROR
	nack := append([]byte(nil), ack...)
	binary.NativeEndian.PutUint32(nack[nlmsgHdrLen:], uint32(0xffffffff)) // -1 = EPERM

	tests := []struct {
		name    string
		buf     []byte
		want    []parsed
		wantErr bool
	}{
		{"one packet", packetMessage(42), []parsed{{isPacket: true, packetID: 42}}, false},
		{"two packets in one datagram", append(packetMessage(1), packetMessage(2)...), []parsed{{isPacket: true, packetID: 1}, {isPacket: true, packetID: 2}}, false},
		{"ack", ack, []parsed{{isError: true}}, false},
		{"error", nack, []parsed{{isError: true, errno: -1}}, false},
		{"truncated", packetMessage(1)[:20], nil, true},
		{"empty", nil, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseMessages(tt.buf)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("message %d: %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestConfigMessagesAskForACKs(t *testing.T) {
	for i, m := range configMessages(3, 100) {
		flags := binary.NativeEndian.Uint16(m[6:8])
		if flags&0x4 == 0 { // NLM_F_ACK
			t.Errorf("config message %d does not ask for an ACK (flags %#x)", i, flags)
		}
		if typ := binary.NativeEndian.Uint16(m[4:6]); typ != msgConfig {
			t.Errorf("config message %d: type %#x", i, typ)
		}
	}
}
