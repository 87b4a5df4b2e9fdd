//go:build !race

package notifytest

const raceEnabled = false
