// Command bench_go runs the Go twins of the runtime's benchmark workloads (bench/workloads_*.cc),
// one workload per process, and prints one line per measurement: `go <name> <value> <unit>`.
//
//	bench_go -list                      the workloads and the measurements each one reports
//	bench_go -run NAME [-procs N] [-quick]
//	bench_go -version                   the toolchain it was built with (for prebuilt binaries)
//
// bench/run_bench.py (`./course bench`) builds and drives it; it is not meant to be run by hand,
// but it can be. Each twin does the same work as its C++ workload, in the same order, timed the
// same way: inside a goroutine (here: main's goroutine, which is one), with the monotonic clock
// (time.Since). A failed check panics, so the process exits non-zero and the runner reports it.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
)

func main() {
	list := flag.Bool("list", false, "print the workloads and their measurements")
	run := flag.String("run", "", "workload to run")
	procs := flag.Int("procs", 0, "GOMAXPROCS (0: leave the default)")
	quick := flag.Bool("quick", false, "sizes divided by about 100 (a smoke run; numbers not comparable)")
	version := flag.Bool("version", false, "print the Go toolchain this binary was built with")
	flag.Parse()
	if *version {
		fmt.Printf("go version %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return
	}
	if *procs > 0 {
		runtime.GOMAXPROCS(*procs)
	}
	if *list {
		for _, w := range workloads {
			fmt.Printf("%s %s\n", w.name, strings.Join(w.measures, ","))
		}
		return
	}
	for _, w := range workloads {
		if w.name == *run {
			for _, r := range w.fn(sizes{quick: *quick}) {
				fmt.Printf("go %s %s %s\n", r.name, formatValue(r.value), r.unit)
			}
			return
		}
	}
	fmt.Fprintf(os.Stderr, "bench_go: unknown workload %q (try -list)\n", *run)
	os.Exit(2)
}

// formatValue prints with 4 significant digits and no exponent, like the C++ side.
func formatValue(v float64) string {
	switch {
	case v >= 1000:
		return fmt.Sprintf("%.0f", v)
	case v >= 100:
		return fmt.Sprintf("%.1f", v)
	case v >= 10:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.3f", v)
	}
}
