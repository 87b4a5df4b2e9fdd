package harmony

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// Config is Harmony's harmony-config.json: how to start each platform's serve.
type Config struct {
	Platforms map[string]PlatformConfig `json:"platforms"`
	// FeaturesPath and the timings are read for compatibility with Harmony's
	// file; the runner takes its feature directory from its caller.
	FeaturesPath                 string `json:"featuresPath,omitempty"`
	DefaultTimeoutMs             int    `json:"defaultTimeoutMs,omitempty"`
	ProcessInitializationDelayMs int    `json:"processInitializationDelayMs,omitempty"`
}

// PlatformConfig starts one platform's serve.
type PlatformConfig struct {
	Executable       string            `json:"executable"`
	Arguments        string            `json:"arguments"` // split on white space
	WorkingDirectory string            `json:"workingDirectory"`
	Environment      map[string]string `json:"environment,omitempty"`
}

// LoadConfig reads a harmony-config.json.
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read harmony config: %w", err)
	}
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("parse harmony config %s: %w", path, err)
	}
	for name, p := range c.Platforms {
		if strings.TrimSpace(p.Executable) == "" {
			return nil, fmt.Errorf("harmony config %s: platform %q has no executable", path, name)
		}
	}
	return &c, nil
}

// SelfServe is the platform entry that runs this program's own serve: the
// executable (os.Executable) with the given arguments, e.g. "serve".
func SelfServe(args string, env map[string]string) (PlatformConfig, error) {
	exe, err := os.Executable()
	if err != nil {
		return PlatformConfig{}, fmt.Errorf("find this program's executable: %w", err)
	}
	return PlatformConfig{Executable: exe, Arguments: args, Environment: env}, nil
}

// RunnerConfig is the configuration a conformance run uses: the file at path
// (Harmony's harmony-config.json) when path is not empty, and in every case a
// platform "go" (unless the file defines one) that runs this program's own
// serve with selfArgs (e.g. "serve").
func RunnerConfig(path, selfArgs string) (*Config, error) {
	c := &Config{Platforms: map[string]PlatformConfig{}}
	if path != "" {
		var err error
		if c, err = LoadConfig(path); err != nil {
			return nil, err
		}
		if c.Platforms == nil {
			c.Platforms = map[string]PlatformConfig{}
		}
	}
	if _, ok := c.Platforms["go"]; !ok {
		self, err := SelfServe(selfArgs, nil)
		if err != nil {
			return nil, err
		}
		c.Platforms["go"] = self
	}
	return c, nil
}

// CommandOptions builds a run's Options from a command line's values: the
// features path, the config file (may be empty), a comma-separated platform
// list (empty: go alone without a config file, every platform with one), a
// --run expression (may be empty) and the arguments that make this program
// a serve.
func CommandOptions(features, configPath, platforms, run, selfArgs string) (Options, error) {
	cfg, err := RunnerConfig(configPath, selfArgs)
	if err != nil {
		return Options{}, err
	}
	opts := Options{Features: features, Config: cfg}
	switch {
	case platforms != "":
		opts.Platforms = strings.Split(platforms, ",")
	case configPath == "":
		opts.Platforms = []string{"go"}
	}
	if run != "" {
		if opts.Run, err = regexp.Compile(run); err != nil {
			return Options{}, fmt.Errorf("--run: %w", err)
		}
	}
	return opts, nil
}
