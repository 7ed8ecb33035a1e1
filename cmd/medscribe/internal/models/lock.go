package models

import (
	"context"
	"fmt"
	"os"
	"time"
)

// acquire takes the lock file at path, calling onWait once if another pull
// holds it, and returns the function that releases it. The lock file is
// left in place: removing it would let a waiter lock a file that a third
// pull has already replaced.
func acquire(ctx context.Context, path string, onWait func()) (release func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	waited := false
	for {
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if ok {
			return func() { unlock(f); f.Close() }, nil
		}
		if !waited {
			onWait()
			waited = true
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(lockPoll):
		}
	}
}
