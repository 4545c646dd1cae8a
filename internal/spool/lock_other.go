//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package spool

import "os"

// lockDir creates the lock file at path. This platform has no flock(2): the
// directory is not protected against a second process.
func lockDir(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
}

// unlockDir releases a lock taken by lockDir.
func unlockDir(f *os.File) { f.Close() }
