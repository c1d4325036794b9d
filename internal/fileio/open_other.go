//go:build !unix

package fileio

// openFlags: no non-blocking open outside Unix; Check refuses special
// files before opening.
const openFlags = 0
