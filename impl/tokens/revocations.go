package tokens

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/latchkey/latchkey/impl/store"
)

const (
	// rowGrace keeps revocation rows (and set entries) a little past the
	// expiry of what they match, so an instance whose clock runs behind
	// still finds them.
	rowGrace = 5 * time.Minute
	// pruneEvery is how often Run deletes expired revocation rows and drops
	// expired set entries.
	pruneEvery = 5 * time.Minute
	// startupSkew bounds how far the writers' clocks (created_at) may be
	// behind ours when New picks the first re-scan watermark.
	startupSkew = 30 * time.Second
	// failLogEvery rate-limits the warning while sync keeps failing.
	failLogEvery = time.Minute
)

// userRev revokes every token of a user issued at or before `before`.
type userRev struct{ before, keep int64 } // unix microseconds

// revset is the in-memory revocation set that Validate consults.
type revset struct {
	mu      sync.RWMutex
	tokens  map[[16]byte]int64 // token id -> keep until (unix µs)
	users   map[string]userRev
	clients map[string]userRev // CIAM client id -> cut-off
}

func (r *revset) init() {
	r.tokens = make(map[[16]byte]int64)
	r.users = make(map[string]userRev)
	r.clients = make(map[string]userRev)
}

func (r *revset) revoked(c *Claims) bool {
	id, ok := parseID(c.TokenID)
	iat := c.IssuedAt.UnixMicro()
	r.mu.RLock()
	defer r.mu.RUnlock()
	if _, hit := r.tokens[id]; ok && hit {
		return true
	}
	if c.UserID != "" {
		if u, hit := r.users[c.UserID]; hit && iat <= u.before {
			return true
		}
	}
	if c.Kind == KindClient && c.ClientID != "" {
		if u, hit := r.clients[c.ClientID]; hit && iat <= u.before {
			return true
		}
	}
	return false
}

func (r *revset) addToken(id [16]byte, keep int64) {
	r.mu.Lock()
	if old, ok := r.tokens[id]; !ok || keep > old {
		r.tokens[id] = keep
	}
	r.mu.Unlock()
}

func (r *revset) addUser(userID string, before, keep int64) {
	r.mu.Lock()
	addCutoff(r.users, userID, before, keep)
	r.mu.Unlock()
}

func (r *revset) addClient(clientID string, before, keep int64) {
	r.mu.Lock()
	addCutoff(r.clients, clientID, before, keep)
	r.mu.Unlock()
}

// addCutoff records a cut-off in m (the caller holds the lock).
func addCutoff(m map[string]userRev, id string, before, keep int64) {
	u, ok := m[id]
	if !ok {
		u = userRev{before: before, keep: keep}
	}
	// The latest cut-off covers every earlier one.
	u.before = max(u.before, before)
	u.keep = max(u.keep, keep)
	m[id] = u
}

func (r *revset) apply(row *store.Revocation) {
	keep := row.ExpiresAt.UnixMicro()
	if row.TokenID != "" {
		if id, ok := parseID(row.TokenID); ok {
			r.addToken(id, keep)
		}
	}
	if row.UserID != "" {
		r.addUser(row.UserID, row.RevokedBefore.UnixMicro(), keep)
	}
	if row.ClientID != "" {
		r.addClient(row.ClientID, row.RevokedBefore.UnixMicro(), keep)
	}
}

// prune drops entries kept until before now and reports how many remain.
func (r *revset) prune(now int64) (tokens, users, clients int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, keep := range r.tokens {
		if keep < now {
			delete(r.tokens, id)
		}
	}
	for id, u := range r.users {
		if u.keep < now {
			delete(r.users, id)
		}
	}
	for id, u := range r.clients {
		if u.keep < now {
			delete(r.clients, id)
		}
	}
	return len(r.tokens), len(r.users), len(r.clients)
}

// parseID decodes 32 lowercase hex characters without allocating.
func parseID(s string) (id [16]byte, ok bool) {
	if len(s) != 32 {
		return id, false
	}
	for i := 0; i < 32; i++ {
		c := s[i]
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		default:
			return id, false
		}
		id[i/2] |= v << (4 * (1 - i%2))
	}
	return id, true
}

// syncState tracks what the sync loop has read.
//
// Reading only rows with id > the highest id seen is not enough: on
// PostgreSQL a row can take its id before another and commit after it. So each
// sync re-reads from a watermark taken `overlap` ago: a mark (t, m) records
// that after a sync finishing at t the highest id seen was m; every id
// allocated after t is above m. A row whose id was allocated after t and that
// commits within about overlap-SyncInterval of its allocation is therefore
// read by a later sync. Marks use the local monotonic clock, so the writers'
// clocks do not matter (except for the first watermark, see load).
type syncState struct {
	mu        sync.Mutex // one sync at a time
	maxID     uint64
	marks     []mark
	failing   bool
	lastWarn  time.Time
	lastPrune time.Time
}

type mark struct {
	at time.Time
	id uint64
}

func (s *Service) overlap() time.Duration { return 5*time.Second + 2*s.cfg.SyncInterval }

// load reads every unexpired revocation into the set (called by New).
func (s *Service) load(ctx context.Context) error {
	var rows []store.Revocation
	err := s.db.WithContext(ctx).Where("expires_at > ?", s.now().UTC()).Order("id").Find(&rows).Error
	if err != nil {
		return fmt.Errorf("load revocations: %w", err)
	}
	started := time.Now()
	// First watermark: the highest id among rows written well before now
	// (by the writers' clocks). A row still in flight got its id about now,
	// so it lies above; the first syncs re-read from here until marks of
	// our own take over.
	old := started.Add(-startupSkew - s.overlap())
	var w uint64
	for i := range rows {
		s.revs.apply(&rows[i])
		s.sync.maxID = max(s.sync.maxID, rows[i].ID)
		if rows[i].CreatedAt.Before(old) {
			w = max(w, rows[i].ID)
		}
	}
	s.sync.marks = []mark{{at: started, id: w}}
	s.sync.lastPrune = started
	s.log.Debug("loaded token revocations", "rows", len(rows))
	return nil
}

// watermark returns the id to re-read from at now and drops marks that are
// no longer needed.
func (st *syncState) watermark(now time.Time, overlap time.Duration) uint64 {
	cut := now.Add(-overlap)
	i := 0
	for j := len(st.marks) - 1; j > 0; j-- {
		if !st.marks[j].at.After(cut) {
			i = j
			break
		}
	}
	st.marks = st.marks[i:]
	return st.marks[0].id
}

// syncOnce reads the revocations written since the watermark.
func (s *Service) syncOnce(ctx context.Context) error {
	s.sync.mu.Lock()
	defer s.sync.mu.Unlock()
	w := s.sync.watermark(time.Now(), s.overlap())
	var rows []store.Revocation
	err := s.db.WithContext(ctx).
		Where("id > ? AND expires_at > ?", w, s.now().UTC()).
		Order("id").Find(&rows).Error
	if err != nil {
		return fmt.Errorf("sync revocations: %w", err)
	}
	done := time.Now() // after the query: the snapshot is no later than this
	for i := range rows {
		s.revs.apply(&rows[i])
		s.sync.maxID = max(s.sync.maxID, rows[i].ID)
	}
	s.sync.marks = append(s.sync.marks, mark{at: done, id: s.sync.maxID})
	return nil
}

// prune deletes expired revocation rows and drops expired set entries.
func (s *Service) prune(ctx context.Context) error {
	now := s.now()
	tokens, users, clients := s.revs.prune(now.UnixMicro())
	res := s.db.WithContext(ctx).Where("expires_at < ?", now.UTC()).Delete(&store.Revocation{})
	if res.Error != nil {
		return fmt.Errorf("prune revocations: %w", res.Error)
	}
	s.log.Debug("pruned token revocations", "deleted_rows", res.RowsAffected,
		"revoked_tokens", tokens, "revoked_users", users, "revoked_clients", clients)
	return nil
}

// Run keeps the revocation set in step with the database until ctx is done:
// it reads new revocations every SyncInterval and prunes expired ones every
// few minutes.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(s.cfg.SyncInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := s.syncOnce(ctx)
		if err == nil && time.Since(s.sync.lastPrune) >= pruneEvery {
			s.sync.lastPrune = time.Now()
			err = s.prune(ctx)
		}
		s.report(ctx, err)
	}
}

// report logs sync failures at most once a minute, and the recovery.
func (s *Service) report(ctx context.Context, err error) {
	switch {
	case err != nil && ctx.Err() == nil:
		if !s.sync.failing || time.Since(s.sync.lastWarn) >= failLogEvery {
			s.log.Warn("token revocation sync failing; revocations made on other instances may not be seen",
				"err", err)
			s.sync.lastWarn = time.Now()
		}
		s.sync.failing = true
	case err == nil && s.sync.failing:
		s.log.Info("token revocation sync recovered")
		s.sync.failing = false
	}
}

// Revoke revokes one token (c as returned by Validate or Issue). It takes
// effect on this instance at once, on the others within about SyncInterval.
func (s *Service) Revoke(ctx context.Context, c Claims) error {
	id, ok := parseID(c.TokenID)
	if !ok {
		return errors.New("revoke token: malformed token id")
	}
	now := s.now()
	if !now.Before(c.ExpiresAt) {
		return nil // already expired: nothing to revoke
	}
	keep := c.ExpiresAt.Add(rowGrace).UTC()
	// Local first: even if the write fails, this instance stops accepting it.
	s.revs.addToken(id, keep.UnixMicro())
	row := store.Revocation{TokenID: c.TokenID, RevokedBefore: now.UTC(), ExpiresAt: keep}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	return nil
}

// RevokeUser revokes every token of userID issued at or before at (the zero
// time means now). Tokens issued later stay valid. It takes effect on this
// instance at once, on the others within about SyncInterval.
func (s *Service) RevokeUser(ctx context.Context, userID string, at time.Time) error {
	if userID == "" {
		return errors.New("revoke user tokens: empty user id")
	}
	return s.revokeBefore(ctx, at, s.cfg.Lifetime, func(before, keep int64) { s.revs.addUser(userID, before, keep) },
		store.Revocation{UserID: userID})
}

// RevokeClient revokes every token of the CIAM client clientID issued at or
// before at (the zero time means now), e.g. when the client is deleted. It
// takes effect on this instance at once, on the others within about
// SyncInterval.
func (s *Service) RevokeClient(ctx context.Context, clientID string, at time.Time) error {
	if clientID == "" {
		return errors.New("revoke client tokens: empty client id")
	}
	return s.revokeBefore(ctx, at, s.cfg.ClientLifetime, func(before, keep int64) { s.revs.addClient(clientID, before, keep) },
		store.Revocation{ClientID: clientID})
}

// revokeBefore records a cut-off revocation (row names its user or client):
// in memory first (this instance refuses at once), then in the database for
// the others. lifetime bounds how long any matching token can live.
func (s *Service) revokeBefore(ctx context.Context, at time.Time, lifetime time.Duration, local func(before, keep int64), row store.Revocation) error {
	if at.IsZero() {
		at = s.now()
	}
	// Tokens carry microseconds, so flooring keeps "at or before" exact.
	before := at.UTC().Truncate(time.Microsecond)
	keep := before.Add(lifetime + rowGrace)
	if !s.now().Before(keep) {
		return nil // every token it could match has expired
	}
	local(before.UnixMicro(), keep.UnixMicro())
	row.RevokedBefore, row.ExpiresAt = before, keep
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("revoke tokens: %w", err)
	}
	return nil
}
