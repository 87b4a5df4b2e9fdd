// Package harmony lets the Go implementation take part in the ZeroBuffer
// family's cross-platform suite, Harmony, and runs that suite without .NET.
//
// Harmony checks the implementations (C++, C#, Python and now Go) against each
// other with Gherkin feature files. Each scenario names roles ("the 'reader'
// process …", "the 'writer' process …"); a runner starts one "serve" process
// per role, each possibly written in another language, and sends it every step
// of the scenario over JSON-RPC 2.0 on its stdin/stdout, framed the way the
// Language Server Protocol frames messages (Content-Length headers).
//
// The package has three parts:
//
//   - The protocol (protocol.go, rpc.go): the message shapes Harmony's serves
//     speak — health, initialize, discover, executeStep, cleanup, shutdown and
//     crash — and the framing, with a clear JSON-RPC error for a malformed
//     message rather than a panic.
//   - The serve (Serve, and the step definitions in steps_*.go): a registry of
//     regular expressions, one per step phrasing, each bound to a handler that
//     drives a real ring.Reader or ring.Writer. Buffer names get Harmony's
//     suffix _{HARMONY_HOST_PID}_{HARMONY_FEATURE_ID} so that serves of
//     different languages meet on one name. A step that cannot apply on Linux
//     fails with an error starting "not applicable on Linux:".
//   - The runner (Run): parses feature files with the Cucumber project's Go
//     Gherkin parser, routes each step to a role by Harmony's rules, starts a
//     serve per role for every assignment of platforms to roles, and reports
//     a matrix, an optional JUnit file and a last line "N passed, N failed,
//     N skipped".
//
// A few of the reference's scenarios expect what no protocol-correct ring
// does; CONTRADICTIONS.md, beside this file, says which and why, and their
// steps fail where the contradiction shows rather than pass.
//
// The command zerobuffer wires both ends up as "zerobuffer serve" and
// "zerobuffer conformance"; everything else lives here.
package harmony
