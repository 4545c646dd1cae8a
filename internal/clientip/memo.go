package clientip

import (
	"encoding/binary"
	"net/netip"
	"sync/atomic"
)

// peerMemo remembers the parsed address of a few recent IPv4 RemoteAddr strings.
// net/http gives every request on a connection the same RemoteAddr, so the requests
// of a keep-alive client after its first find their address here: a few loads and
// compares instead of parsing "a.b.c.d:port" again (about 400 instructions).
//
// Each slot is a sequence lock made of atomics, so it needs no mutex and allocates
// nothing: a writer makes the slot's sequence odd, stores the key and the value, and
// makes it even again; a reader that sees the same even sequence before and after
// reading has read one writer's whole entry. Writers that find a slot being written
// skip it. A miss only costs the parse the memo saves.
type peerMemo struct {
	slots [memoSlots]memoSlot
}

const memoSlots = 64

// memoSlot holds one RemoteAddr of at most memoKeyLen bytes, zero-padded, and its
// address.
type memoSlot struct {
	seq atomic.Uint64
	key [3]atomic.Uint64
	val atomic.Uint64 // IPv4 address << 8 | len(RemoteAddr)
}

// memoKeyLen is the longest RemoteAddr memoized; "255.255.255.255:65535" has 21
// bytes.
const memoKeyLen = 24

// memoKey is a RemoteAddr of at most memoKeyLen bytes, zero-padded, as three words.
type memoKey [3]uint64

func makeMemoKey(s string) (k memoKey, ok bool) {
	if len(s) > memoKeyLen {
		return k, false
	}
	var b [memoKeyLen]byte
	copy(b[:], s)
	k[0] = binary.LittleEndian.Uint64(b[0:])
	k[1] = binary.LittleEndian.Uint64(b[8:])
	k[2] = binary.LittleEndian.Uint64(b[16:])
	return k, true
}

// slot picks the slot of k. The port's digits, the key's last bytes, differ between
// a client's connections, so they spread the slots.
func (m *peerMemo) slot(k memoKey, n int) *memoSlot {
	h := (k[0] ^ k[1]*0x9e3779b97f4a7c15 ^ k[2]*0xc2b2ae3d27d4eb4f) + uint64(n)
	return &m.slots[(h>>32^h)%memoSlots]
}

// get returns the address memoized for the RemoteAddr s, whose key is k.
func (m *peerMemo) get(k memoKey, n int) (netip.Addr, bool) {
	sl := m.slot(k, n)
	seq := sl.seq.Load()
	if seq&1 != 0 {
		return netip.Addr{}, false
	}
	k0, k1, k2, val := sl.key[0].Load(), sl.key[1].Load(), sl.key[2].Load(), sl.val.Load()
	if sl.seq.Load() != seq || seq == 0 || k0 != k[0] || k1 != k[1] || k2 != k[2] || int(val&0xff) != n {
		return netip.Addr{}, false
	}
	var a [4]byte
	binary.BigEndian.PutUint32(a[:], uint32(val>>8))
	return netip.AddrFrom4(a), true
}

// put memoizes ip, an IPv4 address, for the RemoteAddr whose key is k and length n.
func (m *peerMemo) put(k memoKey, n int, ip netip.Addr) {
	sl := m.slot(k, n)
	seq := sl.seq.Load()
	if seq&1 != 0 || !sl.seq.CompareAndSwap(seq, seq+1) {
		return // another writer has the slot
	}
	a := ip.As4()
	sl.key[0].Store(k[0])
	sl.key[1].Store(k[1])
	sl.key[2].Store(k[2])
	sl.val.Store(uint64(binary.BigEndian.Uint32(a[:]))<<8 | uint64(n))
	sl.seq.Store(seq + 2)
}
