package mutants

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"maps"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// plant merges one mutant's bug files into the engine's sources. orig and
// bugs map a package directory (repo-relative, slash-separated) to its
// files (base name → source): orig holds every non-test .go file of each
// package the mutant changes, bugs the mutant's files for it. The result
// maps repo-relative paths to the sources the overlay must serve: each
// original file that lost a declaration, and one new file per bug file
// (mutant_<name>.go) holding the mutant's declarations.
//
// Every top-level declaration of a bug file replaces the one of the same
// name (a method: of the same receiver type and name; a var, const or type
// spec: by name) wherever it is declared in the package; a name declared in
// no file of the package is added. An addition must be used, directly or
// through other additions, by a replacing declaration, and a mutant must
// replace at least one declaration: a bug whose target was renamed would
// otherwise compile as a harmless addition and test the unmutated engine.
func plant(orig, bugs map[string]map[string]string) (map[string]string, error) {
	type declRef struct {
		dir, file string
		keys      []string
		node      ast.Node
	}
	out := map[string]string{}
	live := map[string]bool{}                      // identifiers used by replacing declarations
	var added []declRef                            // declarations that replace nothing
	removals := map[string]map[string][]ast.Node{} // dir → file → replaced nodes
	parsed := map[string]map[string]*parsedFile{}
	replaced := 0
	for _, dir := range sortedKeys(bugs) {
		files := orig[dir]
		if len(files) == 0 {
			return nil, fmt.Errorf("%s: no Go files in the package the mutant changes", dir)
		}
		index := map[string]string{} // key → file declaring it
		pkgName := ""
		parsed[dir] = map[string]*parsedFile{}
		for _, name := range sortedKeys(files) {
			pf, err := parseFile(dir+"/"+name, files[name])
			if err != nil {
				return nil, err
			}
			parsed[dir][name] = pf
			pkgName = pf.f.Name.Name
			for _, d := range pf.f.Decls {
				for _, k := range declKeys(d) {
					if other, dup := index[k]; dup {
						return nil, fmt.Errorf("%s: %s is declared in both %s and %s; a mutant cannot tell which it replaces", dir, k, other, name)
					}
					index[k] = name
				}
			}
		}
		for _, bname := range sortedKeys(bugs[dir]) {
			src := stripBuildConstraint(bugs[dir][bname])
			bf, err := parseFile(dir+"/"+bname+" (mutant)", src)
			if err != nil {
				return nil, err
			}
			if bf.f.Name.Name != pkgName {
				return nil, fmt.Errorf("%s/%s: package %s, the target package is %s", dir, bname, bf.f.Name.Name, pkgName)
			}
			for _, d := range bf.f.Decls {
				if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.IMPORT {
					continue
				}
				keys := declKeys(d)
				var hit, miss []string
				for _, k := range keys {
					if _, ok := index[k]; ok {
						hit = append(hit, k)
					} else {
						miss = append(miss, k)
					}
				}
				if len(hit) > 0 && len(miss) > 0 {
					return nil, fmt.Errorf("%s/%s: one declaration replaces %v but adds %v; split it", dir, bname, hit, miss)
				}
				if len(hit) == 0 {
					added = append(added, declRef{dir: dir, file: bname, keys: keys, node: d})
					continue
				}
				replaced += len(hit)
				for _, k := range hit {
					file := index[k]
					n, err := findDecl(parsed[dir][file].f, k)
					if err != nil {
						return nil, fmt.Errorf("%s/%s: %v", dir, file, err)
					}
					if removals[dir] == nil {
						removals[dir] = map[string][]ast.Node{}
					}
					removals[dir][file] = append(removals[dir][file], n)
				}
				collectIdents(d, live)
			}
			newName := "mutant_" + bname
			if _, clash := files[newName]; clash {
				return nil, fmt.Errorf("%s: the package already has a file %s", dir, newName)
			}
			out[dir+"/"+newName] = src
		}
	}
	if replaced == 0 {
		return nil, fmt.Errorf("the mutant replaces no declaration of the engine (was its target renamed or moved to another package?)")
	}
	// An addition is live when a live declaration names it (a method: its
	// name, or its receiver is a live addition).
	isLive := make([]bool, len(added))
	liveAdded := map[string]bool{}
	for changed := true; changed; {
		changed = false
		for i, a := range added {
			if isLive[i] {
				continue
			}
			for _, k := range a.keys {
				recv, name, isMethod := strings.Cut(k, ".")
				if !isMethod {
					name = recv
				}
				if live[name] || (isMethod && liveAdded[recv]) {
					isLive[i], changed = true, true
				}
			}
			if isLive[i] {
				collectIdents(a.node, live)
				for _, k := range a.keys {
					liveAdded[k] = true
				}
			}
		}
	}
	for i, a := range added {
		if !isLive[i] {
			return nil, fmt.Errorf("%s/%s: %v replaces nothing in the package and no replacing declaration uses it (was its target renamed?)", a.dir, a.file, a.keys)
		}
	}
	for _, dir := range sortedKeys(removals) {
		for _, file := range sortedKeys(removals[dir]) {
			src, err := removeDecls(parsed[dir][file], removals[dir][file])
			if err != nil {
				return nil, fmt.Errorf("%s/%s: %v", dir, file, err)
			}
			out[dir+"/"+file] = src
		}
	}
	return out, nil
}

type parsedFile struct {
	fset *token.FileSet
	f    *ast.File
	src  string
}

func parseFile(name, src string) (*parsedFile, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, name, src, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	return &parsedFile{fset: fset, f: f, src: src}, nil
}

// declKeys names what a top-level declaration declares: "Name" for funcs,
// types, vars and consts (one package namespace), "Recv.Name" for methods.
// init and _ are never keys (they may be declared many times).
func declKeys(d ast.Decl) []string {
	var keys []string
	add := func(n string) {
		if n != "_" && n != "init" {
			keys = append(keys, n)
		}
	}
	switch d := d.(type) {
	case *ast.FuncDecl:
		if d.Recv == nil || len(d.Recv.List) == 0 {
			add(d.Name.Name)
		} else {
			keys = append(keys, recvType(d.Recv.List[0].Type)+"."+d.Name.Name)
		}
	case *ast.GenDecl:
		if d.Tok == token.IMPORT {
			return nil
		}
		for _, s := range d.Specs {
			switch s := s.(type) {
			case *ast.TypeSpec:
				add(s.Name.Name)
			case *ast.ValueSpec:
				for _, n := range s.Names {
					add(n.Name)
				}
			}
		}
	}
	return keys
}

// recvType is a receiver's base type name (without *, type parameters).
func recvType(e ast.Expr) string {
	for {
		switch t := e.(type) {
		case *ast.StarExpr:
			e = t.X
		case *ast.ParenExpr:
			e = t.X
		case *ast.IndexExpr:
			e = t.X
		case *ast.IndexListExpr:
			e = t.X
		case *ast.Ident:
			return t.Name
		default:
			return fmt.Sprintf("%T", e)
		}
	}
}

// findDecl returns the node to remove for key k: a FuncDecl, or the spec
// declaring k (the whole GenDecl when it is its only spec).
func findDecl(f *ast.File, k string) (ast.Node, error) {
	for _, d := range f.Decls {
		for _, dk := range declKeys(d) {
			if dk != k {
				continue
			}
			g, ok := d.(*ast.GenDecl)
			if !ok {
				return d, nil
			}
			for _, s := range g.Specs {
				if !specDeclares(s, k) {
					continue
				}
				if vs, ok := s.(*ast.ValueSpec); ok {
					if len(vs.Names) > 1 {
						return nil, fmt.Errorf("%s shares its spec with other names; a mutant replaces one spec whole, so the engine must declare %s on its own", k, k)
					}
					if g.Tok == token.CONST && g.Lparen.IsValid() {
						for _, o := range g.Specs {
							if len(o.(*ast.ValueSpec).Values) == 0 {
								return nil, fmt.Errorf("%s is in a const group with implicit (iota) values; removing it would renumber the others", k)
							}
						}
					}
				}
				if len(g.Specs) == 1 {
					return g, nil
				}
				return s, nil
			}
		}
	}
	return nil, fmt.Errorf("%s not found", k)
}

func specDeclares(s ast.Spec, k string) bool {
	switch s := s.(type) {
	case *ast.TypeSpec:
		return s.Name.Name == k
	case *ast.ValueSpec:
		for _, n := range s.Names {
			if n.Name == k {
				return true
			}
		}
	}
	return false
}

// collectIdents adds every identifier n uses (selector names included).
func collectIdents(n ast.Node, into map[string]bool) {
	ast.Inspect(n, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok {
			into[id.Name] = true
		}
		return true
	})
}

// removeDecls cuts the nodes (with their doc and line comments) out of the
// file's text, then the imports nothing left uses, and formats the result.
func removeDecls(pf *parsedFile, nodes []ast.Node) (string, error) {
	var spans [][2]int
	for _, n := range nodes {
		spans = append(spans, nodeSpan(pf, n))
	}
	src := cut(pf.src, spans)
	pf2, err := parseFile(pf.fset.File(pf.f.Pos()).Name(), src)
	if err != nil {
		return "", fmt.Errorf("after removing the replaced declarations: %v", err)
	}
	used := map[string]bool{}
	ast.Inspect(pf2.f, func(n ast.Node) bool {
		if s, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := s.X.(*ast.Ident); ok {
				used[id.Name] = true
			}
		}
		return true
	})
	spans = nil
	for _, d := range pf2.f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.IMPORT {
			continue
		}
		var drop []ast.Node
		for _, s := range g.Specs {
			is := s.(*ast.ImportSpec)
			if n := importName(is); n != "_" && n != "." && !used[n] {
				drop = append(drop, is)
			}
		}
		if len(drop) > 0 && (len(drop) == len(g.Specs) || !g.Lparen.IsValid()) {
			drop = []ast.Node{g}
		}
		for _, n := range drop {
			spans = append(spans, nodeSpan(pf2, n))
		}
	}
	src = cut(src, spans)
	b, err := format.Source([]byte(src))
	if err != nil {
		return "", fmt.Errorf("after removing the replaced declarations and unused imports: %v", err)
	}
	return string(b), nil
}

// nodeSpan is n's byte range with its doc comment and trailing comment.
func nodeSpan(pf *parsedFile, n ast.Node) [2]int {
	start, end := n.Pos(), n.End()
	switch n := n.(type) {
	case *ast.FuncDecl:
		if n.Doc != nil {
			start = n.Doc.Pos()
		}
	case *ast.GenDecl:
		if n.Doc != nil {
			start = n.Doc.Pos()
		}
	case *ast.ValueSpec:
		if n.Doc != nil {
			start = n.Doc.Pos()
		}
		if n.Comment != nil {
			end = n.Comment.End()
		}
	case *ast.TypeSpec:
		if n.Doc != nil {
			start = n.Doc.Pos()
		}
		if n.Comment != nil {
			end = n.Comment.End()
		}
	case *ast.ImportSpec:
		if n.Doc != nil {
			start = n.Doc.Pos()
		}
		if n.Comment != nil {
			end = n.Comment.End()
		}
	}
	tf := pf.fset.File(pf.f.Pos())
	return [2]int{tf.Offset(start), tf.Offset(end)}
}

// cut removes the byte spans from src (a removed node leaves a blank line).
func cut(src string, spans [][2]int) string {
	sort.Slice(spans, func(i, j int) bool { return spans[i][0] > spans[j][0] })
	for _, s := range spans {
		src = src[:s[0]] + src[s[1]:]
	}
	return src
}

var majorVersion = regexp.MustCompile(`^v[0-9]+$`)

// importName is the name an import binds: its explicit name, else the
// package name guessed from the path (the last element, skipping a /vN
// major version, cut at a dot, without a go- prefix, - as _). A wrong guess
// keeps an unused import or drops a used one; either fails the build
// loudly, never silently.
func importName(is *ast.ImportSpec) string {
	if is.Name != nil {
		return is.Name.Name
	}
	p := strings.Trim(is.Path.Value, "\"`")
	elems := strings.Split(p, "/")
	last := elems[len(elems)-1]
	if majorVersion.MatchString(last) && len(elems) > 1 {
		last = elems[len(elems)-2]
	}
	last = path.Base(last)
	last, _, _ = strings.Cut(last, ".")
	last = strings.TrimPrefix(last, "go-")
	return strings.ReplaceAll(last, "-", "_")
}

// stripBuildConstraint removes the //go:build (and // +build) lines that
// keep a bug file out of normal builds.
func stripBuildConstraint(src string) string {
	var b bytes.Buffer
	inHeader := true
	for _, l := range strings.SplitAfter(src, "\n") {
		t := strings.TrimSpace(l)
		if inHeader && (strings.HasPrefix(t, "//go:build") || strings.HasPrefix(t, "// +build")) {
			continue
		}
		if strings.HasPrefix(t, "package ") {
			inHeader = false
		}
		b.WriteString(l)
	}
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
