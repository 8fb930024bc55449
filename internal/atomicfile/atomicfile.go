// Package atomicfile replaces a file's content atomically: the data goes to
// a temporary file in the same directory, which is then renamed over the
// target, so that a reader sees the old content or the new, never a torn
// one, even if the writer is killed mid-write. It is kubemint's one atomic
// writer: the cache's entries, index, failure records and keyring marker
// (WriteAt on Unix, through the cache directory's open descriptor; Write
// elsewhere) and the kubeconfigs that setup and convert edit
// (WriteDurable).
//
// The temporary file is named .<name>.tmp<digits>, in the target's
// directory, created exclusively (never through a planted link) and 0600
// until its mode is set, so data is never readable by others on the way.
// The cache recognizes the pattern to remove what a killed writer left.
//
// # What is flushed to disk (the fsync policy, stated once)
//
// The rename alone makes a write atomic against a crash of the process. An
// fsync adds durability against a crash of the machine (power loss, kernel
// panic), at the cost of a disk flush: 0.3 to 6 ms each on a laptop, more
// than the rest of a cache miss's local work. So:
//
//   - WriteAt and Write do not fsync. They are for data whose loss is
//     harmless: a cache entry or its status record that a machine crash
//     loses (or leaves empty, on a file system that orders data after the
//     rename) is read back as a miss or a corrupt entry, which the cache
//     treats as a miss and mints again. Nothing the user wrote is at stake.
//   - WriteDurable fsyncs the temporary file before the rename and, on
//     Unix, the directory after it. It is for files a user cannot get back
//     from a server: a kubeconfig setup or convert edits, and convert's
//     backup of it. After a machine crash the file holds the old content or
//     the new, and the new one is not lost once WriteDurable returned.
//
// The one kubemint file not written here is the cache's served record
// (cache.Store.WriteServed): fixed-size, overwritten in place on the hit
// path, and not fsynced either: a record a machine crash loses reads as
// Unknown, as after any failed write of it.
//
// The lean front links this package through the cache: it imports nothing
// but the standard library and golang.org/x/sys/unix, which the cache
// links anyway.
package atomicfile
