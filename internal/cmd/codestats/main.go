// Command codestats prints the figures of issue 13's before/after table for
// a source tree: exported top-level identifiers per package, the largest
// functions, and the files over a line limit. Test files are left out of the
// first two and marked in the third.
//
//	go run ./internal/cmd/codestats [-top 10] [-file-limit 600] [DIR]
package main

import (
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

type fn struct {
	name  string
	pos   string
	lines int
}

func main() {
	top := flag.Int("top", 10, "how many of the largest functions to list")
	limit := flag.Int("file-limit", 600, "list files with more lines than this")
	flag.Parse()
	root := "."
	if flag.NArg() > 0 {
		root = flag.Arg(0)
	}
	if err := run(root, *top, *limit); err != nil {
		fmt.Fprintln(os.Stderr, "codestats:", err)
		os.Exit(1)
	}
}

// stats is what one walk of the tree found.
type stats struct {
	exported map[string]int // package directory → exported names
	fns      []fn
	big      []string // files over the limit, formatted
}

func run(root string, top, limit int) error {
	st, err := collect(root, limit)
	if err != nil {
		return err
	}
	st.print(top, limit)
	return nil
}

// collect parses every .go file under root (skipping hidden directories,
// node_modules and testdata).
func collect(root string, limit int) (*stats, error) {
	st := &stats{exported: map[string]int{}}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); path != root && (strings.HasPrefix(n, ".") || n == "node_modules" || n == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		st.addFile(fset, f, rel, limit)
		return nil
	})
	return st, err
}

func (st *stats) addFile(fset *token.FileSet, f *ast.File, rel string, limit int) {
	n := fset.File(f.Pos()).LineCount()
	test := strings.HasSuffix(rel, "_test.go")
	if n > limit {
		mark := ""
		if test {
			mark = " (test)"
		}
		st.big = append(st.big, fmt.Sprintf("%5d  %s%s", n, rel, mark))
	}
	if test {
		return
	}
	st.exported[filepath.Dir(rel)] += countExported(f)
	for _, decl := range f.Decls {
		fd, ok := decl.(*ast.FuncDecl)
		if !ok || fd.Body == nil {
			continue
		}
		name := fd.Name.Name
		if fd.Recv != nil && len(fd.Recv.List) == 1 {
			name = recvName(fd.Recv.List[0].Type) + "." + name
		}
		start, end := fset.Position(fd.Pos()), fset.Position(fd.End())
		st.fns = append(st.fns, fn{name, fmt.Sprintf("%s:%d", rel, start.Line), end.Line - start.Line + 1})
	}
}

func (st *stats) print(top, limit int) {
	fmt.Println("## Exported top-level identifiers per package (non-test files)")
	pkgs := make([]string, 0, len(st.exported))
	for p := range st.exported {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	for _, p := range pkgs {
		if st.exported[p] > 0 {
			fmt.Printf("%5d  %s\n", st.exported[p], p)
		}
	}
	fns := st.fns
	sort.Slice(fns, func(i, j int) bool { return fns[i].lines > fns[j].lines })
	fmt.Printf("\n## The %d largest functions (lines, non-test files)\n", top)
	for i := 0; i < top && i < len(fns); i++ {
		fmt.Printf("%5d  %s  %s\n", fns[i].lines, fns[i].name, fns[i].pos)
	}
	over := 0
	for _, f := range fns {
		if f.lines > 80 {
			over++
		}
	}
	fmt.Printf("       (%d functions over 80 lines)\n", over)
	sort.Sort(sort.Reverse(sort.StringSlice(st.big)))
	fmt.Printf("\n## Files over %d lines\n", limit)
	for _, b := range st.big {
		fmt.Println(b)
	}
}

// countExported counts the exported names a file declares at top level:
// functions (not methods), types, constants and variables.
func countExported(f *ast.File) int {
	n := 0
	for _, decl := range f.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil && d.Name.IsExported() {
				n++
			}
		case *ast.GenDecl:
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.TypeSpec:
					if s.Name.IsExported() {
						n++
					}
				case *ast.ValueSpec:
					for _, id := range s.Names {
						if id.IsExported() {
							n++
						}
					}
				}
			}
		}
	}
	return n
}

func recvName(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.StarExpr:
		return recvName(t.X)
	case *ast.IndexExpr:
		return recvName(t.X)
	case *ast.IndexListExpr:
		return recvName(t.X)
	case *ast.Ident:
		return t.Name
	}
	return "?"
}
