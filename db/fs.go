package db

import "io/fs"

// subFS narrows an embedded FS to one folder; the folder is a compile-time
// constant, so failure is a programming error.
func subFS(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err)
	}
	return sub
}
