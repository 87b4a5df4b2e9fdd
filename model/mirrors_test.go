package model

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// goFuncs returns the functions and methods declared in the non-test Go
// files of the repository directory dir, as "dir.Func" and
// "dir.(*Type).Method" (or "dir.Type.Method" for value receivers).
func goFuncs(t *testing.T, root, dir string) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	files, err := filepath.Glob(filepath.Join(root, dir, "*.go"))
	require.NoError(t, err)
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		require.NoError(t, err)
		for _, d := range file.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok {
				continue
			}
			if fd.Recv == nil || len(fd.Recv.List) == 0 {
				names[dir+"."+fd.Name.Name] = true
				continue
			}
			switch rt := fd.Recv.List[0].Type.(type) {
			case *ast.StarExpr:
				if id, ok := rt.X.(*ast.Ident); ok {
					names[dir+".(*"+id.Name+")."+fd.Name.Name] = true
				}
			case *ast.Ident:
				names[dir+"."+rt.Name+"."+fd.Name.Name] = true
			}
		}
	}
	return names
}

// TestMirroredFunctionsExist fails when a function a model step mirrors
// is no longer in the repository, and lists every missing name at once.
// examples/unixgram is a module of its own (its go.mod replaces this one):
// go/parser reads its files like any other directory's, without building.
func TestMirroredFunctionsExist(t *testing.T) {
	root := ".."
	known := map[string]map[string]bool{}
	var missing []string
	for _, name := range mirrored {
		switch {
		case strings.HasPrefix(name, "external:"):
			continue // not in this repository; README names the sources
		case strings.Contains(name, ".c:"):
			file, fn, _ := strings.Cut(name, ":")
			src, err := os.ReadFile(filepath.Join(root, file))
			if err != nil || !regexp.MustCompile(`(?m)^static [^;]*\b`+regexp.QuoteMeta(fn)+`\(`).Match(src) {
				missing = append(missing, name)
			}
		default:
			dot := strings.Index(name, ".")
			require.Positive(t, dot, "malformed mirrored name %q", name)
			dir := name[:dot]
			if known[dir] == nil {
				if _, err := os.Stat(filepath.Join(root, dir)); err != nil {
					missing = append(missing, name+" (no directory "+dir+")")
					continue
				}
				known[dir] = goFuncs(t, root, dir)
			}
			if !known[dir][name] {
				missing = append(missing, name)
			}
		}
	}
	// The out-of-tree notifier's directory was found and parsed, not
	// skipped: its names are in the table.
	assert.NotEmpty(t, known["examples/unixgram"], "examples/unixgram was not parsed")
	assert.Empty(t, missing, "model steps mirror functions that are gone; update model/mirrors.go:\n  %s", strings.Join(missing, "\n  "))
}

// TestEveryStepNamesAMirroredFunction keeps the steps and the table in
// one piece: a step naming a function outside the table escapes the test
// above.
func TestEveryStepNamesAMirroredFunction(t *testing.T) {
	table := map[string]bool{}
	for _, n := range mirrored {
		table[n] = true
	}
	for _, st := range allSteps {
		assert.True(t, table[st.Func], "step %q names %q, not in the mirrored table", st.What, st.Func)
	}
	assert.NotEmpty(t, allSteps)
}
