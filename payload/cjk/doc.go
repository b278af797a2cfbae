// Package cjk splits text into words the way Qdrant 1.17's multilingual
// full-text tokenizer does, segmenting Chinese and Japanese with
// dictionaries, so that a query word such as 向量 matches inside 向量数据库.
//
// Qdrant's tokenizer has two paths, and so does Split:
//
//   - Text whose main script is kana, or kanji with more than 5% kana, is
//     Japanese and is analysed whole into morphemes. Qdrant uses a
//     statistical model trained on BCCWJ short-unit words; this package
//     uses UniDic, the dictionary of those same short units, through
//     github.com/ikawaha/kagome, which cuts a few words otherwise.
//   - Any other text goes through charabia (Meilisearch's tokenizer): it
//     is cut where the script changes and at a fixed list of separators,
//     and each piece is one word, except pieces of Chinese, which are cut
//     with the jieba dictionary Qdrant uses (most probable path, no HMM
//     for unknown words) and whose words of more than two characters are
//     split again into dictionary bigrams and trigrams. So Korean is split
//     at spaces and punctuation only, and a Japanese phrase inside Latin
//     text stays one word. Words are then normalised per script (NFKD,
//     Latin case and accents, kVariants forms of Chinese characters).
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
