package bench

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"hash/fnv"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// GoDocCorpusName names the keyword-search corpus: the comments of the Go
// distribution's source tree.
const GoDocCorpusName = "go-comments"

// goDocCorpusVersion changes whenever the extraction below changes, so that
// cached corpora made by an older extraction are made again.
const goDocCorpusVersion = 1

// goDocHoldOut is the share of the corpus's paragraphs (1 in goDocHoldOut,
// chosen by a hash of the text) held out of the documents; their first
// sentences are the queries.
const goDocHoldOut = 64

// TextCorpus is a text collection for keyword search: documents to upload
// and held-out queries. It is immutable once loaded.
type TextCorpus struct {
	Name string `json:"name"`
	// Source says where the text came from (the Go release and GOROOT).
	Source string `json:"source"`
	// Docs are the documents; document i is uploaded as point id i+1.
	Docs []TextDoc `json:"docs"`
	// Queries are the first sentences of held-out paragraphs, none of
	// which is a document.
	Queries []string `json:"queries"`
	// SHA256 is a digest of Docs and Queries, so that runs can tell
	// whether they measured the same text.
	SHA256 string `json:"sha256"`
}

// TextDoc is one document of a TextCorpus.
type TextDoc struct {
	Text string `json:"text"`
	// Origin is the file (relative to GOROOT/src) and line it came from.
	Origin string `json:"origin"`
}

// GoDocCorpusOptions say where LoadGoDocCorpus reads and caches.
type GoDocCorpusOptions struct {
	// GOROOT is the Go tree whose src/ is read. Default: `go env GOROOT`
	// when a go command is on PATH, else the GOROOT this binary was built
	// with.
	GOROOT string
	// CacheDir holds the extracted corpus. Default: the user cache
	// directory/qlite; no caching when neither can be found.
	CacheDir string
}

// LoadGoDocCorpus returns the corpus of every comment in the .go files of
// GOROOT/src (testdata directories and generated files left out), one
// document per paragraph:
// a paragraph is a run of non-blank comment lines; one that starts
// indented (code) or has fewer than five words is dropped, its words are
// joined by single spaces, and repeated paragraphs (licence headers,
// generated comments) are kept once, where they first occur in the sorted
// walk of the tree. One paragraph in goDocHoldOut, chosen by an FNV hash of
// its text, is held out: its first sentence (up to the first ". ", at least
// three words) is a query, and the paragraph is no document. The result
// depends only on the tree's contents; it is cached under CacheDir, keyed
// by the Go version and the extraction's version.
func LoadGoDocCorpus(ctx context.Context, o *GoDocCorpusOptions) (*TextCorpus, error) {
	var opts GoDocCorpusOptions
	if o != nil {
		opts = *o
	}
	if opts.GOROOT == "" {
		opts.GOROOT = defaultGOROOT(ctx)
	}
	raw, err := os.ReadFile(filepath.Join(opts.GOROOT, "VERSION"))
	if err != nil {
		return nil, fmt.Errorf("%w: corpus %s: no Go source tree at %s (set --goroot): %v", ErrNotInstalled, GoDocCorpusName, opts.GOROOT, err)
	}
	version, _, _ := strings.Cut(string(raw), "\n")
	version = strings.TrimSpace(version)
	if opts.CacheDir == "" {
		if d, err := os.UserCacheDir(); err == nil {
			opts.CacheDir = filepath.Join(d, "qlite")
		}
	}
	var cache string
	if opts.CacheDir != "" {
		cache = filepath.Join(opts.CacheDir, fmt.Sprintf("corpus-%s-%s-v%d.json.gz", GoDocCorpusName, fileSafe(version), goDocCorpusVersion))
		if c, err := readCorpusCache(cache); err == nil && c.Source == goDocSource(version, opts.GOROOT) {
			return c, nil
		}
	}
	c, err := extractGoDocCorpus(ctx, opts.GOROOT, version)
	if err != nil {
		return nil, err
	}
	if cache != "" {
		// A cache that cannot be written costs the next run the
		// extraction (a few seconds), nothing else.
		_ = writeCorpusCache(cache, c)
	}
	return c, nil
}

func goDocSource(version, goroot string) string {
	return version + " " + filepath.Join(goroot, "src")
}

// defaultGOROOT is `go env GOROOT`, or the GOROOT this binary was built
// with when there is no go command.
func defaultGOROOT(ctx context.Context) string {
	if out, err := exec.CommandContext(ctx, "go", "env", "GOROOT").Output(); err == nil {
		if s := strings.TrimSpace(string(out)); s != "" {
			return s
		}
	}
	//lint:ignore SA1019 the build's GOROOT is the fallback when no go command is installed
	return runtime.GOROOT()
}

func extractGoDocCorpus(ctx context.Context, goroot, version string) (*TextCorpus, error) {
	src := filepath.Join(goroot, "src")
	c := &TextCorpus{Name: GoDocCorpusName, Source: goDocSource(version, goroot)}
	seen := map[string]bool{}
	queries := map[string]bool{}
	// WalkDir visits entries in lexical order: the walk, and so the
	// corpus, is deterministic.
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return ctx.Err()
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			// The tree holds files that do not parse on purpose
			// (compiler tests); their comments are left out.
			if f == nil {
				return nil
			}
		}
		if ast.IsGenerated(f) {
			// Generated comments (the compiler's rewrite rules, syscall
			// tables) are machine text, thousands alike.
			return nil
		}
		rel, _ := filepath.Rel(src, path)
		rel = filepath.ToSlash(rel)
		for _, cg := range f.Comments {
			commentParagraphs(cg, func(text string, line int) {
				if seen[text] {
					return
				}
				seen[text] = true
				if heldOut(text) {
					if q := firstSentence(text); q != "" && !queries[q] {
						queries[q] = true
						c.Queries = append(c.Queries, q)
					}
					return
				}
				c.Docs = append(c.Docs, TextDoc{Text: text, Origin: fmt.Sprintf("%s:%d", rel, fset.Position(cg.Pos()).Line+line)})
			})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bench: corpus %s: %w", GoDocCorpusName, err)
	}
	c.SHA256 = corpusDigest(c)
	return c, nil
}

// commentParagraphs calls fn with each paragraph of cg worth a document
// and the line, within the group, where it starts.
func commentParagraphs(cg *ast.CommentGroup, fn func(text string, line int)) {
	lines := strings.Split(cg.Text(), "\n")
	start := 0
	flush := func(end int) {
		para := lines[start:end]
		if len(para) > 0 && !strings.HasPrefix(para[0], "\t") && !strings.HasPrefix(para[0], " ") {
			words := strings.Fields(strings.Join(para, " "))
			if len(words) >= 5 {
				fn(strings.Join(words, " "), start)
			}
		}
	}
	for i, l := range lines {
		if strings.TrimSpace(l) == "" {
			flush(i)
			start = i + 1
		}
	}
	flush(len(lines))
}

func heldOut(text string) bool {
	h := fnv.New64a()
	h.Write([]byte(text))
	return h.Sum64()%goDocHoldOut == 0
}

// firstSentence returns text up to its first ". " (the period kept), or ""
// when that has fewer than three words.
func firstSentence(text string) string {
	if i := strings.Index(text, ". "); i >= 0 {
		text = text[:i+1]
	}
	if len(strings.Fields(text)) < 3 {
		return ""
	}
	return text
}

func corpusDigest(c *TextCorpus) string {
	h := sha256.New()
	for _, d := range c.Docs {
		h.Write([]byte(d.Text))
		h.Write([]byte{0})
	}
	h.Write([]byte{1})
	for _, q := range c.Queries {
		h.Write([]byte(q))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

func readCorpusCache(path string) (*TextCorpus, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	var c TextCorpus
	if err := json.NewDecoder(zr).Decode(&c); err != nil {
		return nil, err
	}
	if c.Name != GoDocCorpusName || corpusDigest(&c) != c.SHA256 {
		return nil, errors.New("bench: corpus cache does not match its digest")
	}
	return &c, nil
}

func writeCorpusCache(path string, c *TextCorpus) error {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(c); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Slice returns the corpus cut to its first docs documents and first
// queries queries (0: all of them).
func (c *TextCorpus) Slice(docs, queries int) *TextCorpus {
	out := *c
	if docs > 0 && docs < len(out.Docs) {
		out.Docs = out.Docs[:docs]
	}
	if queries > 0 && queries < len(out.Queries) {
		out.Queries = out.Queries[:queries]
	}
	if len(out.Docs) != len(c.Docs) || len(out.Queries) != len(c.Queries) {
		out.SHA256 = corpusDigest(&out)
	}
	return &out
}
