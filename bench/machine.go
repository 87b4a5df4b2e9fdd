package bench

// The machine a bench runs on, CPU time, and pinning to cores.

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// machineInfo heads every report: figures mean little without it.
type machineInfo struct {
	CPUModel    string `json:"cpu_model"`
	Cores       int    `json:"cores"`
	GOMAXPROCS  int    `json:"gomaxprocs"`
	Kernel      string `json:"kernel"`
	Arch        string `json:"arch"`
	GoVersion   string `json:"go_version"`
	ClockSource string `json:"clock_source,omitempty"`
	Pinned      bool   `json:"pinned"`
	PinMode     string `json:"pin_mode"`  // pair, same or none
	ThisCPU     int    `json:"this_cpu"`  // when pinned: this process's CPU
	OtherCPU    int    `json:"other_cpu"` // and the other process's
	PinNote     string `json:"pin_note"`
	LoadStart   string `json:"load_average_start,omitempty"`
	LoadEnd     string `json:"load_average_end,omitempty"`
}

func probeMachine() machineInfo {
	m := machineInfo{
		CPUModel:   cpuModel(),
		Cores:      runtime.NumCPU(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		Arch:       runtime.GOARCH,
		GoVersion:  runtime.Version(),
		LoadStart:  loadAverage(),
	}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		m.Kernel = unix.ByteSliceToString(u.Sysname[:]) + " " + unix.ByteSliceToString(u.Release[:])
		m.Arch = unix.ByteSliceToString(u.Machine[:])
	}
	if b, err := os.ReadFile("/sys/devices/system/clocksource/clocksource0/current_clocksource"); err == nil {
		m.ClockSource = strings.TrimSpace(string(b))
	}
	return m
}

// cpuModel is the first "model name" (x86) or "Processor"/"CPU part"
// (arm) line of /proc/cpuinfo.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	fallback := ""
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "model name":
			return v
		case "Processor", "Hardware", "CPU part":
			if fallback == "" {
				fallback = v
			}
		}
	}
	if fallback != "" {
		return fallback
	}
	return "unknown"
}

// loadAverage is the 1, 5 and 15 minute load averages, as /proc/loadavg
// gives them.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// cpuTime is the CPU time (user + system) this process has used so far,
// all threads included.
func cpuTime() time.Duration {
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Pinning (placement.go chooses the CPUs). The bench pins its own
// process to one CPU and each child to another, or the same. Affinity is per thread in Linux, so a process is pinned by
// setting every thread of /proc/self/task; threads created later inherit
// the mask of the thread that creates them. GOMAXPROCS is fixed at its
// value before pinning: the runtime would otherwise lower it to 1 once it
// notices the narrower mask, and pinning is meant to change where the
// threads run, not how Go schedules them.

// setProcessAffinity sets the affinity of every thread of this process.
func setProcessAffinity(set *unix.CPUSet) error {
	// Threads may start while we go through the list: go through it
	// until a pass finds nothing new.
	done := map[int]bool{}
	for range 10 {
		entries, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return err
		}
		fresh := 0
		for _, e := range entries {
			tid, err := strconv.Atoi(e.Name())
			if err != nil || done[tid] {
				continue
			}
			if err := unix.SchedSetaffinity(tid, set); err != nil && err != unix.ESRCH {
				return fmt.Errorf("sched_setaffinity(%d): %w", tid, err)
			}
			done[tid] = true
			fresh++
		}
		if fresh == 0 {
			return nil
		}
	}
	return nil
}

// pinning remembers how to undo a pin.
type pinning struct {
	orig unix.CPUSet
}

// pinProcess pins this process to core; the returned pinning restores
// the original mask and the default GOMAXPROCS.
func pinProcess(core int) (*pinning, error) {
	p := &pinning{}
	if err := unix.SchedGetaffinity(0, &p.orig); err != nil {
		return nil, fmt.Errorf("sched_getaffinity: %w", err)
	}
	if !p.orig.IsSet(core) {
		return nil, fmt.Errorf("core %d is not available to this process", core)
	}
	runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	var set unix.CPUSet
	set.Set(core)
	if err := setProcessAffinity(&set); err != nil {
		_ = setProcessAffinity(&p.orig)
		runtime.SetDefaultGOMAXPROCS()
		return nil, err
	}
	return p, nil
}

// unpin restores the mask the process had before pinProcess.
func (p *pinning) unpin() {
	if p == nil {
		return
	}
	_ = setProcessAffinity(&p.orig)
	runtime.SetDefaultGOMAXPROCS()
}

// withMask runs f on a thread whose affinity is mask, and puts the
// thread's own mask back afterwards. A child started by f inherits mask:
// the bench starts its children with every core available, so that their
// Go runtime sees the machine's real core count (semaphore spinning, for
// one, depends on it), and the child then pins itself.
func withMask(mask *unix.CPUSet, f func() error) error {
	if mask == nil {
		return f()
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var own unix.CPUSet
	if err := unix.SchedGetaffinity(0, &own); err != nil {
		return f()
	}
	if err := unix.SchedSetaffinity(0, mask); err != nil {
		return f()
	}
	defer unix.SchedSetaffinity(0, &own)
	return f()
}
