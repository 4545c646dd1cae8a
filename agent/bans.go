package agent

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/vigilhq/vigil"
	"github.com/vigilhq/vigil/internal/wire"
)

// bansFile is where the set of Studio bans the agent placed is kept, in Dir, next to
// policyFile.
const bansFile = "bans.json"

// keptBans is the content of bansFile.
type keptBans struct {
	// Version is the version of the snapshot the bans come from.
	Version int64 `json:"version"`
	// Bans are the bans as Studio sent them.
	Bans []wire.Ban `json:"bans"`
}

// banKey names a ban's target: its kind and its value in canonical form, so that two
// spellings of one target ("::ffff:192.0.2.1", "192.0.2.1") are one ban.
type banKey struct{ kind, value string }

// studioBan is one of Studio's bans in the set the agent applied.
type studioBan struct {
	ban    wire.Ban
	placed bool // the guard accepted it; false: retried with the next snapshot
}

// keyOf returns b's target, or an error when its kind or value is not one the
// snapshot decoder accepts.
func keyOf(b wire.Ban) (banKey, error) {
	switch b.Kind {
	case "ip":
		a, err := netip.ParseAddr(b.Value)
		if err != nil || a.Zone() != "" {
			return banKey{}, fmt.Errorf("ip ban %q: not an address", b.Value)
		}
		return banKey{b.Kind, a.Unmap().String()}, nil
	case "cidr":
		p, err := netip.ParsePrefix(b.Value)
		if err != nil {
			return banKey{}, fmt.Errorf("cidr ban %q: not a prefix", b.Value)
		}
		p = p.Masked()
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		return banKey{b.Kind, p.String()}, nil
	case "dna":
		if b.Value == "" {
			return banKey{}, errors.New("dna ban: empty")
		}
		return banKey{b.Kind, b.Value}, nil
	}
	return banKey{}, fmt.Errorf("ban kind %q unknown", b.Kind)
}

// expired reports whether b has ended at now.
func expired(b wire.Ban, now time.Time) bool {
	return !b.Until.IsZero() && !now.Before(b.Until)
}

// applyBans makes the Studio bans in the guard the snapshot's: it lifts the bans it
// placed before that the snapshot no longer holds, and places those that are new or
// changed (reason or end). It lifts nothing it did not place, so the guard's own bans
// (a honeypot's, say) stay, and it neither places nor lifts bans that have ended: the
// store ignores an ended ban, and its target may carry a newer ban of the guard's own.
// The bans of a snapshot older than the set in force are ignored. A ban the guard
// refuses is logged, counted and tried again with the next snapshot.
func (a *Agent) applyBans(ctx context.Context, g Guard, version int64, bans []wire.Ban, persist bool) {
	a.bansMu.Lock()
	defer a.bansMu.Unlock()
	if version < a.bansVersion.Load() {
		a.log.Warn("agent: bans of an older snapshot ignored", "version", version, "in_force", a.bansVersion.Load())
		return
	}
	now := time.Now()
	want := make(map[banKey]wire.Ban, len(bans))
	for _, b := range bans {
		k, err := keyOf(b)
		if err != nil { // the decoder checked it: a bug
			a.banErrors.Add(1)
			a.log.Error("agent: Studio ban skipped", "err", err)
			continue
		}
		if !expired(b, now) {
			want[k] = b // a target named twice: the last one wins
		}
	}
	var lifted, placed, failed int
	var gone []banKey
	for k := range a.studioBans {
		if _, ok := want[k]; !ok {
			gone = append(gone, k)
		}
	}
	// Lifts first: a target Studio renamed (two spellings of one address) is placed
	// again after its old name is lifted.
	for _, k := range gone {
		old := a.studioBans[k]
		if expired(old.ban, now) {
			delete(a.studioBans, k)
			continue
		}
		if _, err := g.Unban(ctx, vigil.BanKind(k.kind), k.value); err != nil {
			failed++
			a.log.Error("agent: cannot lift a Studio ban; will retry with the next snapshot", "kind", k.kind, "target", k.value, "err", err)
			continue
		}
		delete(a.studioBans, k)
		lifted++
	}
	for k, b := range want {
		if old, ok := a.studioBans[k]; ok && old.placed && old.ban.Reason == b.Reason && old.ban.Until.Equal(b.Until) {
			continue
		}
		err := g.Ban(ctx, vigil.Ban{Kind: vigil.BanKind(b.Kind), Value: b.Value, Reason: studioReason(b.Reason), Until: b.Until})
		a.studioBans[k] = studioBan{ban: b, placed: err == nil}
		if err != nil {
			failed++
			a.log.Error("agent: the guard refused a Studio ban; will retry with the next snapshot", "kind", b.Kind, "target", b.Value, "err", err)
			continue
		}
		placed++
	}
	active := 0
	for _, b := range a.studioBans {
		if b.placed {
			active++
		}
	}
	// The count before the version: a reader that sees this version (Stats loads it
	// first) sees this count with it, not the one before.
	a.bansActive.Store(int64(active))
	a.bansVersion.Store(version)
	a.banErrors.Add(int64(failed))
	if placed+lifted+failed == 0 {
		return
	}
	source := "studio"
	if !persist {
		source = "kept copy"
	}
	a.log.Info("agent: Studio bans applied", "version", version, "source", source, "placed", placed, "lifted", lifted, "failed", failed, "active", active)
	if persist {
		a.keepBans(version)
	}
}

// studioReason is the reason a Studio ban carries in the guard: "studio", followed by
// Studio's own reason when it gave one.
func studioReason(r string) string {
	if r == "" {
		return "studio"
	}
	return "studio: " + r
}

// keepBans writes the set of Studio bans to Dir, atomically. The caller holds bansMu.
func (a *Agent) keepBans(version int64) {
	if a.cfg.Dir == "" {
		return
	}
	k := keptBans{Version: version, Bans: make([]wire.Ban, 0, len(a.studioBans))}
	for _, b := range a.studioBans {
		k.Bans = append(k.Bans, b.ban)
	}
	slices.SortFunc(k.Bans, func(x, y wire.Ban) int {
		return cmp.Or(cmp.Compare(x.Kind, y.Kind), cmp.Compare(x.Value, y.Value))
	})
	data, err := json.Marshal(k)
	if err == nil {
		err = writeFileAtomic(filepath.Join(a.cfg.Dir, bansFile), data)
	}
	if err != nil {
		a.log.Error("agent: cannot keep the Studio bans", "err", err)
	}
}

// restoreBans places again the Studio bans kept in Dir, unless they have ended: a
// restart while Studio is down keeps them, in a fresh guard with a memory store too.
// The next snapshot is compared with them.
func (a *Agent) restoreBans(ctx context.Context, g Guard) {
	if a.cfg.Dir == "" {
		return
	}
	data, err := os.ReadFile(filepath.Join(a.cfg.Dir, bansFile))
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	if err != nil {
		a.log.Error("agent: cannot read the kept Studio bans", "err", err)
		return
	}
	var k keptBans
	if err := json.Unmarshal(data, &k); err != nil || k.Version < 0 {
		a.log.Error("agent: the kept Studio bans are damaged; ignoring them", "err", err)
		return
	}
	// Placed as a snapshot of the kept version would place them, without writing
	// the file again.
	a.applyBans(ctx, g, k.Version, k.Bans, false)
}
