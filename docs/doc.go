// Package docs holds qlite's user documentation, in Markdown. It has no
// code; its test checks that every relative link in README.md,
// CHANGELOG.md and the documents under docs/ and examples/ leads to a file
// of the repository, and every #anchor into a Markdown file to one of its
// headings.
package docs
