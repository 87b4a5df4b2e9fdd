package model

import (
	"os"
)

// Run checks c and returns what the checker found, and how many
// transitions of the C++ writer's defects were not explored: [0] reading
// a full ring as empty, [1] writing past the ring's end after read_pos
// moved to 0 between its two loads.
func Run(c Config) (Result, [2]int, error) {
	sys, err := c.System()
	if err != nil {
		return Result{}, [2]int{}, err
	}
	m := newMachine(c)
	sys.Next = m.next
	sys.Init = m.initial()
	r := Check(sys)
	return r, *m.pruned, nil
}

// DeepFromEnv reports whether ZB_MODEL_DEEP asks for the deeper bounds.
func DeepFromEnv() bool { return os.Getenv("ZB_MODEL_DEEP") != "" && os.Getenv("ZB_MODEL_DEEP") != "0" }
