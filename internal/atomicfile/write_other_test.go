//go:build !unix

package atomicfile

// plainWrite is the plain (not durable) writer as the cache calls it.
var plainWrite = Write
