package cjk

import (
	"runtime"
	"strings"
	"testing"
)

var benchText = map[string]string{
	"zh": "向量数据库是一种专门存储和检索高维向量的数据库。我们用向量搜索来寻找语义上相似的文档。",
	"ja": "ベクトルデータベースは高次元のベクトルを保存して検索します。今日は天気がいいので、公園を散歩しました。",
	"ko": "벡터 데이터베이스는 고차원 벡터를 저장하고 검색합니다. 오늘은 날씨가 좋아서 공원에서 산책을 했습니다.",
	"en": "Vector databases store and search high-dimensional vectors; we use vector search to find similar documents.",
}

func BenchmarkSplit(b *testing.B) {
	Preload()
	for _, lang := range []string{"zh", "ja", "ko", "en"} {
		text := strings.Repeat(benchText[lang], 10)
		b.Run("lang="+lang, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(text)))
			n := 0
			for b.Loop() {
				Split(text, func(string) { n++ })
			}
		})
	}
}

// BenchmarkLoad reports the live heap each dictionary holds once loaded
// (heap-MB: after a collection, less before) and the time to load it. The
// first iteration loads; later ones find it loaded, so run it with
// -benchtime=1x, and in a process of its own (-run with nothing else).
func BenchmarkLoad(b *testing.B) {
	for _, c := range []struct {
		name string
		load func()
	}{
		{"dict=jieba", func() {
			if _, err := loadJieba(); err != nil {
				b.Fatal(err)
			}
			loadKVariants()
		}},
		{"dict=unidic", func() { loadJapanese() }},
	} {
		b.Run(c.name, func(b *testing.B) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			for b.Loop() {
				c.load()
			}
			b.StopTimer()
			runtime.GC()
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/(1<<20), "heap-MB")
		})
	}
}
