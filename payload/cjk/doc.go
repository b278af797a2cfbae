// Package cjk segments Chinese and Japanese text into words the way
// Qdrant 1.17's multilingual full-text tokenizer does, so that a query
// word such as 向量 matches inside 向量数据库.
//
// Chinese (and any run of ideographs and kana in text that is not mainly
// Japanese) is cut with the jieba dictionary that Qdrant uses, along the
// most probable path and without the HMM for unknown words; words longer
// than two characters are then split into dictionary bigrams and
// trigrams. Text detected as Japanese is segmented whole by morphological
// analysis with UniDic (github.com/ikawaha/kagome), which approximates
// Qdrant's statistical Japanese model. Korean is split at spaces and
// punctuation only, as Qdrant does.
//
// # Memory and lifetime
//
// The dictionaries are embedded in the binary and decoded on first use,
// each once per process, and are then kept for the life of the process:
// a process that never segments Chinese or Japanese text pays nothing at
// run time. Measured with BenchmarkLoad: the jieba word list and the
// variant table hold about 7 MB of heap and load in under 0.1 s; UniDic
// holds about 116 MB and takes about 2 s, spent by the first write or
// query with Japanese text. Split is safe for concurrent use.
package cjk
