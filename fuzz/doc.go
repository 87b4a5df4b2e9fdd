// Package fuzz holds the project's `go test -fuzz` targets; it has no
// non-test code of its own.
//
//   - FuzzFrameHeader: frame header parse/encode.
//   - FuzzOIEBValidate: layout.Snapshot.Validate over any 128 bytes and any
//     mapping size; what it accepts must be safe to use.
//   - FuzzMetadata: layout.ParseMetadata / EncodeMetadata.
//   - FuzzReaderHostileMemory: a real ring.Reader whose shared memory (OIEB,
//     metadata block, ring) a hostile peer overwrites, plus spurious posts.
//   - FuzzWriterHostileOIEB: a real ring.Writer whose OIEB a hostile peer
//     corrupts before and after it connects.
//
// A plain `go test ./fuzz` replays the seeds (f.Add) and the corpus in
// testdata/fuzz; scripts/fuzz runs every target for a while.
package fuzz
