// Package testsupport is what the repository's test packages share instead
// of copying it:
//
//   - Names: unique buffer names (family + PID + counter);
//   - Files, BufferFiles, HiddenSegments, Leftovers: the files a test left
//     in /dev/shm or /tmp/zerobuffer;
//   - Reexec and Child: the test binary re-executed as a child process in
//     a role, its output read line by line (Expect, Follow), always reaped;
//   - ChildPIDs, FDCount, AllThreadsStopped, SameBinaryAlive, DeadPID,
//     IsFuzzWorker, RaceEnabled: probes of this process and its peers;
//   - Main and Check: a TestMain that runs a child role, or the tests
//     followed by the leak checks (files, children, goroutines).
//
// It is internal: a third party gets none of it directly. The exported
// stress package builds on it and offers what a caller needs (stress.Main).
//
// It imports nothing of this module, so that every test package can use
// it, including the internal tests of ring and sync/* (which ring
// imports): ring's own constants that it repeats (LockDir) are checked
// against ring's by the stress package's tests.
//
// A typical test package:
//
//	var names = testsupport.NewNames("zbtest-mypkg-")
//
//	func TestMain(m *testing.M) {
//		testsupport.Main(m, testsupport.MainConfig{
//			ChildEnv: "ZB_MYPKG_CHILD",
//			Child:    runChildRole, // func(role string) int
//			Prefix:   names.Prefix(),
//		})
//	}
//
// and a test that needs a second process:
//
//	c := testsupport.Reexec(t, "writer", []string{"ZB_MYPKG_CHILD=writer"})
//	c.Expect("READY")
//	...
//	require.NoError(t, c.Wait())
package testsupport
