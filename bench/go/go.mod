// The Go twins of the C++ benchmark workloads (bench/*.cc). Standard library only: no
// requirements, so it builds offline (bench/run_bench.py builds it with GOPROXY=off).
module gocourse/bench

go 1.19
