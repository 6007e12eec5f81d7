// The Go twins. Each function mirrors the C++ workload of the same name in bench/workloads_*.cc
// statement for statement (same sizes, same goroutine structure, same checks, same timed span);
// keep the two in step when either changes. Definitions: docs/PERFORMANCE.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

type result struct {
	name  string
	value float64
	unit  string
}

type sizes struct{ quick bool }

// n returns full, or full/100 (at least 1) for a quick run.
func (s sizes) n(full int) int {
	if !s.quick {
		return full
	}
	if full/100 < 1 {
		return 1
	}
	return full / 100
}

type workload struct {
	name     string
	measures []string
	fn       func(sizes) []result
}

var workloads = []workload{
	{"skynet_1m", []string{"skynet_1m"}, skynet1m},
	{"spawn_join", []string{"spawn_join"}, spawnJoin},
	{"parked", []string{"parked_spawn", "parked_mem"}, parked},
	{"pingpong_unbuffered", []string{"pingpong_unbuffered"}, pingpong},
	{"prodcons_4x4_cap128", []string{"prodcons_4x4_cap128"}, func(s sizes) []result {
		return prodcons(s, "prodcons_4x4_cap128", 4, 4, 128)
	}},
	{"prodcons_1x1_cap0", []string{"prodcons_1x1_cap0"}, func(s sizes) []result {
		return prodcons(s, "prodcons_1x1_cap0", 1, 1, 0)
	}},
	{"mutex_1workers", []string{"mutex_1workers"}, func(s sizes) []result {
		return mutexWorkers(s, "mutex_1workers", 1, 10_000_000)
	}},
	{"mutex_8workers", []string{"mutex_8workers"}, func(s sizes) []result {
		return mutexWorkers(s, "mutex_8workers", 8, 4_000_000)
	}},
	{"select_fanin4", []string{"select_fanin4"}, selectFanin4},
	{"context_tree", []string{"context_tree_build", "context_tree_cancel"}, contextTree},
	{"sleepers_100k_1to10ms", []string{"sleepers_100k_1to10ms"}, sleepers},
	{"rwmutex_readmostly", []string{"rwmutex_readmostly"}, rwmutexReadMostly},
	{"waitgroup_wait", []string{"waitgroup_wait"}, waitgroupWait},
	{"once_8workers", []string{"once_8workers"}, once8Workers},
	{"pool_8workers", []string{"pool_8workers"}, pool8Workers},
	{"timer_create_stop", []string{"timer_create_stop"}, timerCreateStop},
	{"after_100k_1to10ms", []string{"after_100k_1to10ms"}, after100k},
	{"gosched", []string{"gosched"}, gosched},
}

// --- gosched --------------------------------------------------------------------------------
// One goroutine calls runtime.Gosched() 10,000,000 times.
func gosched(s sizes) []result {
	n := s.n(10_000_000)
	start := time.Now()
	for i := 0; i < n; i++ {
		runtime.Gosched()
	}
	d := time.Since(start)
	return []result{{"gosched", nsPer(d, n), "ns/op"}}
}

func check(ok bool, format string, args ...any) {
	if !ok {
		panic(fmt.Sprintf("check failed: "+format, args...))
	}
}

func nsPer(d time.Duration, n int) float64 { return float64(d.Nanoseconds()) / float64(n) }
func ms(d time.Duration) float64           { return float64(d.Nanoseconds()) / 1e6 }

// rssBytes is the resident set size from /proc/self/statm (second field, in pages), the same
// source the C++ side reads.
func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	check(err == nil, "read /proc/self/statm: %v", err)
	f := strings.Fields(string(b))
	pages, err := strconv.ParseInt(f[1], 10, 64)
	check(err == nil, "parse statm: %v", err)
	return pages * int64(os.Getpagesize())
}

// --- skynet_1m -----------------------------------------------------------------------------
func skynet(c chan<- int64, num, size int64) {
	if size == 1 {
		c <- num
		return
	}
	rc := make(chan int64, 10)
	sub := size / 10
	for i := int64(0); i < 10; i++ {
		go skynet(rc, num+i*sub, sub)
	}
	var sum int64
	for i := 0; i < 10; i++ {
		sum += <-rc
	}
	c <- sum
}

func skynet1m(s sizes) []result {
	leaves := int64(s.n(1_000_000))
	start := time.Now()
	c := make(chan int64, 1)
	go skynet(c, 0, leaves)
	sum := <-c
	d := time.Since(start)
	check(sum == leaves*(leaves-1)/2, "skynet sum %d, want %d", sum, leaves*(leaves-1)/2)
	return []result{{"skynet_1m", ms(d), "ms"}}
}

// --- spawn_join ----------------------------------------------------------------------------
func spawnJoin(s sizes) []result {
	n := s.n(1_000_000)
	start := time.Now()
	var wg sync.WaitGroup
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func() { wg.Done() }()
	}
	wg.Wait()
	d := time.Since(start)
	return []result{{"spawn_join", nsPer(d, n), "ns/goroutine"}}
}

// --- parked_spawn, parked_mem --------------------------------------------------------------
func parked(s sizes) []result {
	n := s.n(100_000)
	ch := make(chan struct{})
	var ready, exited sync.WaitGroup
	ready.Add(n)
	exited.Add(n)
	before := rssBytes()
	start := time.Now()
	for i := 0; i < n; i++ {
		go func() {
			ready.Done()
			<-ch
			exited.Done()
		}()
	}
	ready.Wait()
	d := time.Since(start)
	after := rssBytes()
	close(ch)
	exited.Wait()
	return []result{
		{"parked_spawn", nsPer(d, n), "ns/goroutine"},
		{"parked_mem", float64(after-before) / float64(n), "bytes/goroutine"},
	}
}

// --- pingpong_unbuffered -------------------------------------------------------------------
func pingpong(s sizes) []result {
	n := s.n(1_000_000)
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v
		}
		close(pong)
	}()
	start := time.Now()
	for i := 0; i < n; i++ {
		ping <- i
		v := <-pong
		check(v == i, "pong %d, want %d", v, i)
	}
	d := time.Since(start)
	close(ping)
	_, ok := <-pong
	check(!ok, "pong not closed")
	return []result{{"pingpong_unbuffered", nsPer(d, n), "ns/roundtrip"}}
}

// --- prodcons_4x4_cap128, prodcons_1x1_cap0 ------------------------------------------------
func prodcons(s sizes, name string, producers, consumers, capacity int) []result {
	total := s.n(4_000_000)
	start := time.Now()
	ch := make(chan int64, capacity)
	var prod, cons sync.WaitGroup
	sums := make([]int64, consumers)
	prod.Add(producers)
	cons.Add(consumers)
	for p := 0; p < producers; p++ {
		go func(p int) {
			for i := p; i < total; i += producers {
				ch <- int64(i)
			}
			prod.Done()
		}(p)
	}
	for c := 0; c < consumers; c++ {
		go func(c int) {
			var sum int64
			for v := range ch {
				sum += v
			}
			sums[c] = sum
			cons.Done()
		}(c)
	}
	prod.Wait()
	close(ch)
	cons.Wait()
	d := time.Since(start)
	var sum int64
	for _, v := range sums {
		sum += v
	}
	want := int64(total) * int64(total-1) / 2
	check(sum == want, "%s sum %d, want %d", name, sum, want)
	return []result{{name, nsPer(d, total), "ns/item"}}
}

// --- mutex_1workers, mutex_8workers --------------------------------------------------------
func mutexWorkers(s sizes, name string, workers, total int) []result {
	total = s.n(total)
	per := total / workers
	var mu sync.Mutex
	var counter int64
	var wg sync.WaitGroup
	start := time.Now()
	wg.Add(workers)
	for w := 0; w < workers; w++ {
		go func() {
			for i := 0; i < per; i++ {
				mu.Lock()
				counter++
				mu.Unlock()
			}
			wg.Done()
		}()
	}
	wg.Wait()
	d := time.Since(start)
	check(counter == int64(per*workers), "%s counter %d, want %d", name, counter, per*workers)
	return []result{{name, nsPer(d, per*workers), "ns/op"}}
}

// --- select_fanin4 -------------------------------------------------------------------------
func selectFanin4(s sizes) []result {
	total := s.n(1_000_000)
	var chs [4]chan int64
	for k := range chs {
		chs[k] = make(chan int64)
	}
	start := time.Now()
	for k := 0; k < 4; k++ {
		go func(k int) {
			for i := k; i < total; i += 4 {
				chs[k] <- int64(i)
			}
		}(k)
	}
	var sum int64
	for n := 0; n < total; n++ {
		select {
		case v := <-chs[0]:
			sum += v
		case v := <-chs[1]:
			sum += v
		case v := <-chs[2]:
			sum += v
		case v := <-chs[3]:
			sum += v
		}
	}
	d := time.Since(start)
	want := int64(total) * int64(total-1) / 2
	check(sum == want, "select_fanin4 sum %d, want %d", sum, want)
	return []result{{"select_fanin4", nsPer(d, total), "ns/op"}}
}

// --- context_tree_build, context_tree_cancel -----------------------------------------------
// A tree of WithCancel contexts under one root: 10 children per node, 4 levels below the root
// (10+100+1,000+10,000 contexts, 10,000 leaves). build: creating the contexts, per leaf.
// cancel: one goroutine per leaf waits on its Done(); the time from cancelling the root until
// every waiter has woken.
func buildTree(parent context.Context, depth int, leaves *[]context.Context, cancels *[]context.CancelFunc) {
	if depth == 0 {
		*leaves = append(*leaves, parent)
		return
	}
	for i := 0; i < 10; i++ {
		c, cancel := context.WithCancel(parent)
		*cancels = append(*cancels, cancel)
		buildTree(c, depth-1, leaves, cancels)
	}
}

func contextTree(s sizes) []result {
	depth := 4
	if s.quick {
		depth = 2
	}
	root, cancelRoot := context.WithCancel(context.Background())
	var leaves []context.Context
	var cancels []context.CancelFunc
	start := time.Now()
	buildTree(root, depth, &leaves, &cancels)
	build := time.Since(start)

	var ready, woke sync.WaitGroup
	ready.Add(len(leaves))
	woke.Add(len(leaves))
	for _, leaf := range leaves {
		go func(leaf context.Context) {
			done := leaf.Done()
			ready.Done()
			<-done
			woke.Done()
		}(leaf)
	}
	ready.Wait()
	start = time.Now()
	cancelRoot()
	woke.Wait()
	cancel := time.Since(start)
	for _, leaf := range leaves {
		check(errors.Is(leaf.Err(), context.Canceled), "leaf not canceled: %v", leaf.Err())
	}
	for _, c := range cancels {
		c()
	}
	return []result{
		{"context_tree_build", nsPer(build, len(leaves)), "ns/leaf"},
		{"context_tree_cancel", ms(cancel), "ms"},
	}
}

// --- sleepers_100k_1to10ms -----------------------------------------------------------------
func sleepers(s sizes) []result {
	n := s.n(100_000)
	var wg sync.WaitGroup
	start := time.Now()
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func(i int) {
			time.Sleep(time.Duration(i%10+1) * time.Millisecond)
			wg.Done()
		}(i)
	}
	wg.Wait()
	d := time.Since(start)
	return []result{{"sleepers_100k_1to10ms", ms(d), "ms"}}
}

// --- rwmutex_readmostly --------------------------------------------------------------------
// 8 goroutines, 4,000,000 operations in total; every 100th operation of a goroutine writes
// (Lock, increment, Unlock), the others read (RLock, read, RUnlock).
func rwmutexReadMostly(s sizes) []result {
	const workers = 8
	per := s.n(4_000_000) / workers
	var rw sync.RWMutex
	var shared int64
	var wg sync.WaitGroup
	seen := make([]int64, workers)
	start := time.Now()
	wg.Add(workers)
	for w := 0; w < workers; w++ {
		go func(w int) {
			var local int64
			for i := 0; i < per; i++ {
				if i%100 == 99 {
					rw.Lock()
					shared++
					rw.Unlock()
				} else {
					rw.RLock()
					local += shared
					rw.RUnlock()
				}
			}
			seen[w] = local
			wg.Done()
		}(w)
	}
	wg.Wait()
	d := time.Since(start)
	check(shared == int64(workers*(per/100)), "rwmutex writes %d, want %d", shared, workers*(per/100))
	return []result{{"rwmutex_readmostly", nsPer(d, per*workers), "ns/op"}}
}

// --- waitgroup_wait ------------------------------------------------------------------------
// 200,000 rounds of: Add(1), start a goroutine that calls Done, Wait. Measures Wait's park and
// Done's wake-up (plus one spawn) per round.
func waitgroupWait(s sizes) []result {
	rounds := s.n(200_000)
	var wg sync.WaitGroup
	start := time.Now()
	for r := 0; r < rounds; r++ {
		wg.Add(1)
		go func() { wg.Done() }()
		wg.Wait()
	}
	d := time.Since(start)
	return []result{{"waitgroup_wait", nsPer(d, rounds), "ns/round"}}
}

// --- once_8workers -------------------------------------------------------------------------
// 8 goroutines call Do on one Once, 10,000,000 calls in total (all but the first take the
// fast path); f must run exactly once.
func once8Workers(s sizes) []result {
	const workers = 8
	per := s.n(10_000_000) / workers
	var once sync.Once
	var runs int64
	var wg sync.WaitGroup
	start := time.Now()
	wg.Add(workers)
	for w := 0; w < workers; w++ {
		go func() {
			for i := 0; i < per; i++ {
				once.Do(func() { runs++ })
			}
			wg.Done()
		}()
	}
	wg.Wait()
	d := time.Since(start)
	check(runs == 1, "once ran f %d times", runs)
	return []result{{"once_8workers", nsPer(d, per*workers), "ns/op"}}
}

// --- pool_8workers -------------------------------------------------------------------------
// 8 goroutines, 4,000,000 Get+Put pairs in total on one Pool of 64-byte buffers.
func pool8Workers(s sizes) []result {
	const workers = 8
	per := s.n(4_000_000) / workers
	pool := sync.Pool{New: func() any { return new([64]byte) }}
	var wg sync.WaitGroup
	start := time.Now()
	wg.Add(workers)
	for w := 0; w < workers; w++ {
		go func() {
			for i := 0; i < per; i++ {
				b := pool.Get().(*[64]byte)
				b[0]++
				pool.Put(b)
			}
			wg.Done()
		}()
	}
	wg.Wait()
	d := time.Since(start)
	return []result{{"pool_8workers", nsPer(d, per*workers), "ns/op"}}
}

// --- timer_create_stop ---------------------------------------------------------------------
// 4 goroutines, 1,000,000 timers in total: NewTimer(1h), then Stop (which must report that it
// stopped a pending timer).
func timerCreateStop(s sizes) []result {
	const workers = 4
	per := s.n(1_000_000) / workers
	var wg sync.WaitGroup
	stopped := make([]int, workers)
	start := time.Now()
	wg.Add(workers)
	for w := 0; w < workers; w++ {
		go func(w int) {
			for i := 0; i < per; i++ {
				t := time.NewTimer(time.Hour)
				if t.Stop() {
					stopped[w]++
				}
			}
			wg.Done()
		}(w)
	}
	wg.Wait()
	d := time.Since(start)
	for w := range stopped {
		check(stopped[w] == per, "timer Stop reported %d of %d pending", stopped[w], per)
	}
	return []result{{"timer_create_stop", nsPer(d, per*workers), "ns/op"}}
}

// --- after_100k_1to10ms --------------------------------------------------------------------
// Like sleepers_100k_1to10ms, but each goroutine receives from time.After(i%10+1 ms).
func after100k(s sizes) []result {
	n := s.n(100_000)
	var wg sync.WaitGroup
	start := time.Now()
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func(i int) {
			<-time.After(time.Duration(i%10+1) * time.Millisecond)
			wg.Done()
		}(i)
	}
	wg.Wait()
	d := time.Since(start)
	return []result{{"after_100k_1to10ms", ms(d), "ms"}}
}
