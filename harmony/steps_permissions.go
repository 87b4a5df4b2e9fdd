package harmony

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/zerobuffer/zerobuffer-go/ring"
)

// restrictivePermissions is the mode of a buffer only its owner may open.
const restrictivePermissions os.FileMode = 0o600

// nobodyID is the unprivileged user and group that plays a scenario's
// other user when no account of that name exists.
const nobodyID = 65534

// permState is what the permission scenario (10.6) set up and saw.
type permState struct {
	users    map[string]string // role → the scenario's user name
	modes    map[string]os.FileMode
	childErr string // the unprivileged writer's connect error
	childUID int
	healthy  bool // the unprivileged serve still answered after its failure
}

func (w *world) permState() *permState {
	if w.perm == nil {
		w.perm = &permState{users: map[string]string{}}
	}
	return w.perm
}

// registerPermissions: feature 10.6, a writer of another, unprivileged user
// connecting to a buffer only its owner may open. The writer is a second
// serve — this very program, started as that user — so the refusal comes
// from the kernel's real permission check on the real files.
func registerPermissions(r *Registry) {
	r.add(Given, `the (reader|writer) is `+q, func(_ context.Context, w *world, a []string) error {
		w.permState().users[a[0]] = a[1]
		w.logf(LevelInformation, "the %s is %q", a[0], a[1])
		return nil
	})
	r.add(Given, `the `+q+` process creates buffer `+q+` with restrictive permissions`, func(_ context.Context, w *world, a []string) error {
		base := a[1]
		name := w.bufferName(base)
		rd, err := ring.NewReader(name, ring.Config{MetadataSize: defaultMetadataSize, PayloadSize: defaultPayloadSize}, ring.WithPermissions(restrictivePermissions))
		if err != nil {
			return fmt.Errorf("create buffer %s: %w", name, err)
		}
		if old, ok := w.readers[base]; ok {
			_ = old.Close()
		}
		w.readers[base], w.current = rd, base
		w.ctxOut[contextBuffer] = base
		st := w.permState()
		st.modes = map[string]os.FileMode{}
		for _, f := range ring.BufferFiles(name).All() {
			fi, err := os.Stat(f)
			if err != nil {
				return fmt.Errorf("stat %s: %w", f, err)
			}
			if fi.Mode().Perm()&0o077 != 0 {
				return fmt.Errorf("%s has mode %v: others may open it", f, fi.Mode().Perm())
			}
			st.modes[f] = fi.Mode().Perm()
		}
		w.logf(LevelInformation, "created buffer %s as uid %d (the %s, %q), files mode %v", name, os.Geteuid(), a[0], st.users["reader"], restrictivePermissions)
		return nil
	})
	r.add(When, `another writer attempts to connect without permissions`, func(ctx context.Context, w *world, _ []string) error {
		if w.current == "" {
			return errors.New("no buffer was created")
		}
		if os.Geteuid() != 0 {
			return fmt.Errorf("%s the serve runs as uid %d, and only root (CAP_SETUID) can start the other user's writer; run the serve as root to check permissions", NotApplicablePrefix, os.Geteuid())
		}
		st := w.permState()
		uid, gid := otherUser(st.users["writer"])
		if uid == os.Geteuid() {
			return fmt.Errorf("the writer's user %q is the reader's uid %d", st.users["writer"], uid)
		}
		st.childUID = uid
		w.logf(LevelInformation, "starting a writer serve as uid %d gid %d (the writer, %q)", uid, gid, st.users["writer"])
		msg, healthy, err := w.connectAs(ctx, uid, gid, w.current)
		if err != nil {
			return err
		}
		st.childErr, st.healthy = msg, healthy
		w.attempted = true
		w.lastErr = nil
		if msg != "" {
			w.lastErr = errors.New(msg)
		}
		w.logf(LevelInformation, "the other user's connect: %q", msg)
		return nil
	})
	r.add(Then, `permission denied error should be handled`, func(_ context.Context, w *world, _ []string) error {
		st := w.permState()
		if err := w.expectFailure(nil); err != nil {
			return fmt.Errorf("the writer of uid %d: %w", st.childUID, err)
		}
		msg := st.childErr
		if !strings.Contains(msg, syscall.EACCES.Error()) {
			return fmt.Errorf("want a permission-denied error, got: %s", msg)
		}
		if !strings.Contains(msg, w.bufferName(w.current)) {
			return fmt.Errorf("the error does not name the buffer: %s", msg)
		}
		if !st.healthy {
			return errors.New("the refused writer's serve did not answer after its failure")
		}
		return nil
	})
	r.add(Then, `no resource corruption should occur`, func(ctx context.Context, w *world, _ []string) error {
		rd, err := w.reader()
		if err != nil {
			return err
		}
		o := rd.OIEB()
		if pid := o.WriterPID.Load(); pid != 0 {
			return fmt.Errorf("the control block names writer pid %d after a refused connect", pid)
		}
		if n := o.PayloadWrittenCount.Load(); n != 0 {
			return fmt.Errorf("%d frames written after a refused connect", n)
		}
		if free, size := o.PayloadFreeBytes.Load(), o.PayloadSize.Load(); free != size {
			return fmt.Errorf("%d of %d bytes free after a refused connect", free, size)
		}
		for f, mode := range w.permState().modes {
			fi, err := os.Stat(f)
			if err != nil {
				return fmt.Errorf("after the refused connect: %w", err)
			}
			if fi.Mode().Perm() != mode {
				return fmt.Errorf("%s: mode %v, was %v", f, fi.Mode().Perm(), mode)
			}
		}
		// The owner still uses the buffer as before.
		if err := w.connectWriter(w.current); err != nil {
			return fmt.Errorf("the owner after the refused connect: %w", err)
		}
		if err := w.write(ctx, 1024); err != nil {
			return err
		}
		f, err := w.readAndRelease(ctx, readTimeout)
		if err != nil {
			return err
		}
		if !bytes.Equal(w.lastData, framePattern(1024, 1)) || f.Seq() != 1 {
			return fmt.Errorf("the owner's first frame came back as frame %d with other bytes", f.Seq())
		}
		return nil
	})
}

// otherUser is the uid and gid that play name: the account of that name if
// it exists and is not root, else nobody.
func otherUser(name string) (int, int) {
	if u, err := user.Lookup(name); err == nil {
		uid, e1 := strconv.Atoi(u.Uid)
		gid, e2 := strconv.Atoi(u.Gid)
		if e1 == nil && e2 == nil && uid != 0 {
			return uid, gid
		}
	}
	return nobodyID, nobodyID
}

// connectAs starts this program again as a serve of uid and gid, asks it to
// connect a writer to base, and returns the step's error ("" if it
// connected) and whether the serve still answered afterwards.
func (w *world) connectAs(ctx context.Context, uid, gid int, base string) (string, bool, error) {
	pid, feature, ok := strings.Cut(w.suffix, "_")
	if !ok {
		return "", false, fmt.Errorf("buffer suffix %q is not PID_FEATURE", w.suffix)
	}
	// /proc/self/exe, not os.Executable: the other user may not search the
	// directory the program lies in (go run's build cache is 0700), but
	// the kernel follows the link to the very file.
	cmd := exec.CommandContext(ctx, "/proc/self/exe", os.Args[1:]...)
	cmd.Dir = "/"
	cmd.Env = append(os.Environ(), "HARMONY_HOST_PID="+pid, "HARMONY_FEATURE_ID="+feature)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	sp, err := launch(cmd, "writer", "go", nil)
	if err != nil {
		return "", false, fmt.Errorf("start a serve as uid %d: %w", uid, err)
	}
	defer sp.stop()
	const t = 10 * time.Second
	if err := sp.call("initialize", InitializeRequest{Role: "writer", Platform: "go", Scenario: "permission check"}, t, nil); err != nil {
		return "", false, fmt.Errorf("the serve of uid %d: %w", uid, err)
	}
	var resp StepResponse
	step := StepRequest{Process: "writer", StepType: When, Step: "the 'writer' process connects to buffer '" + base + "'"}
	if err := sp.call("executeStep", step, t, &resp); err != nil {
		return "", false, fmt.Errorf("the serve of uid %d: %w", uid, err)
	}
	var healthy bool
	healthErr := sp.call("health", nil, t, &healthy)
	if resp.Success {
		return "", healthErr == nil && healthy, nil
	}
	if resp.Error == nil {
		return "", false, fmt.Errorf("the serve of uid %d failed the connect without an error", uid)
	}
	return *resp.Error, healthErr == nil && healthy, nil
}
