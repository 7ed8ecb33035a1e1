//go:build linux || darwin

package models

import "golang.org/x/sys/unix"

// freeSpace is the room left for an unprivileged user on dir's file system.
func freeSpace(dir string) (int64, bool) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, false
	}
	return int64(min(uint64(st.Bavail)*uint64(st.Bsize), 1<<62)), true
}
