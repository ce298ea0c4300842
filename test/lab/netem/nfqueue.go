package main

import (
	"encoding/binary"
	"fmt"
	"syscall"
)

// Netlink constants of nfnetlink_queue (linux/netfilter/nfnetlink_queue.h).
const (
	nfnlSubsysQueue = 3
	msgPacket       = nfnlSubsysQueue<<8 | 0
	msgVerdict      = nfnlSubsysQueue<<8 | 1
	msgConfig       = nfnlSubsysQueue<<8 | 2

	attrPacketHdr  = 1 // NFQA_PACKET_HDR
	attrVerdictHdr = 2 // NFQA_VERDICT_HDR

	cfgCmd      = 1 // NFQA_CFG_CMD
	cfgParams   = 2 // NFQA_CFG_PARAMS
	cfgMaxLen   = 3 // NFQA_CFG_QUEUE_MAXLEN
	cfgMask     = 4 // NFQA_CFG_MASK
	cfgFlags    = 5 // NFQA_CFG_FLAGS
	cmdBind     = 1 // NFQNL_CFG_CMD_BIND
	copyMeta    = 1 // NFQNL_COPY_META: ids only, no payload
	flagFailOpn = 1 // NFQA_CFG_F_FAIL_OPEN: accept rather than drop when the queue is full

	verdictDrop   = 0 // NF_DROP
	verdictAccept = 1 // NF_ACCEPT

	solNetlink    = 270 // SOL_NETLINK
	noENOBUFS     = 5   // NETLINK_NO_ENOBUFS
	nlmsgHdrLen   = 16
	nfgenmsgLen   = 4
	netlinkAlignN = 4
)

func align(n int) int { return (n + netlinkAlignN - 1) &^ (netlinkAlignN - 1) }

// attr encodes one netlink attribute, padded to 4 bytes.
func attr(typ uint16, payload []byte) []byte {
	b := make([]byte, align(4+len(payload)))
	binary.NativeEndian.PutUint16(b[0:2], uint16(4+len(payload)))
	binary.NativeEndian.PutUint16(b[2:4], typ)
	copy(b[4:], payload)
	return b
}

// message encodes an nfnetlink message for queue number queue.
func message(typ, flags uint16, seq uint32, queue uint16, attrs ...[]byte) []byte {
	body := make([]byte, nfgenmsgLen) // family AF_UNSPEC, version 0, res_id
	binary.BigEndian.PutUint16(body[2:4], queue)
	for _, a := range attrs {
		body = append(body, a...)
	}
	b := make([]byte, nlmsgHdrLen, nlmsgHdrLen+len(body))
	binary.NativeEndian.PutUint32(b[0:4], uint32(nlmsgHdrLen+len(body)))
	binary.NativeEndian.PutUint16(b[4:6], typ)
	binary.NativeEndian.PutUint16(b[6:8], flags)
	binary.NativeEndian.PutUint32(b[8:12], seq)
	return append(b, body...)
}

func be32(v uint32) []byte { b := make([]byte, 4); binary.BigEndian.PutUint32(b, v); return b }

// configMessages bind queue and ask for packet ids only, a queue of maxLen
// packets and fail-open when it is full.
func configMessages(queue uint16, maxLen uint32) [][]byte {
	const req = syscall.NLM_F_REQUEST | syscall.NLM_F_ACK
	bind := attr(cfgCmd, []byte{cmdBind, 0, 0, 0})
	params := attr(cfgParams, append(be32(0), copyMeta))
	return [][]byte{
		message(msgConfig, req, 1, queue, bind),
		message(msgConfig, req, 2, queue, params, attr(cfgMaxLen, be32(maxLen)),
			attr(cfgMask, be32(flagFailOpn)), attr(cfgFlags, be32(flagFailOpn))),
	}
}

func verdictMessage(queue uint16, id, verdict uint32) []byte {
	return message(msgVerdict, syscall.NLM_F_REQUEST, 0, queue, attr(attrVerdictHdr, append(be32(verdict), be32(id)...)))
}

// parsed is what one received netlink message told.
type parsed struct {
	packetID uint32
	isPacket bool
	errno    int32 // from NLMSG_ERROR (0 = an ACK)
	isError  bool
}

// parseMessages splits a datagram into netlink messages.
func parseMessages(buf []byte) ([]parsed, error) {
	var out []parsed
	for len(buf) >= nlmsgHdrLen {
		n := int(binary.NativeEndian.Uint32(buf[0:4]))
		typ := binary.NativeEndian.Uint16(buf[4:6])
		if n < nlmsgHdrLen || n > len(buf) {
			return out, fmt.Errorf("bad netlink message length %d of %d", n, len(buf))
		}
		payload := buf[nlmsgHdrLen:n]
		switch {
		case typ == syscall.NLMSG_ERROR && len(payload) >= 4:
			out = append(out, parsed{isError: true, errno: int32(binary.NativeEndian.Uint32(payload[0:4]))})
		case typ == msgPacket && len(payload) >= nfgenmsgLen:
			if id, ok := packetID(payload[nfgenmsgLen:]); ok {
				out = append(out, parsed{isPacket: true, packetID: id})
			}
		}
		buf = buf[min(align(n), len(buf)):]
	}
	return out, nil
}

func packetID(attrs []byte) (uint32, bool) {
	for len(attrs) >= 4 {
		l := int(binary.NativeEndian.Uint16(attrs[0:2]))
		typ := binary.NativeEndian.Uint16(attrs[2:4]) & 0x3fff // strip NLA_F_NESTED / byte-order flags
		if l < 4 || l > len(attrs) {
			return 0, false
		}
		if typ == attrPacketHdr && l >= 8 {
			return binary.BigEndian.Uint32(attrs[4:8]), true
		}
		attrs = attrs[min(align(l), len(attrs)):]
	}
	return 0, false
}
