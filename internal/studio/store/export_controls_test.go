package store

// SetTestArgon2 makes s hash passwords with argon2id at its least cost (64 KiB, one
// pass), so that tests which make many users stay fast. The production parameters
// have tests of their own.
func SetTestArgon2(s *Store) { s.argon = argonParams{memory: 64, time: 1, threads: 1} }

// Hashes returns how many argon2id hashes s has begun.
func Hashes(s *Store) int64 { return s.hashes.Load() }

// NotifyChannel returns the PostgreSQL channel s's notifications travel on.
func NotifyChannel(s *Store) string { return s.pgChannel }

// NormalizeBan checks b and puts its value in normal form, as AddBan does.
var NormalizeBan = normalizeBan
