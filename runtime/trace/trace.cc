#include "runtime/trace/trace.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <utility>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "runtime/sched/sched.h"
#include "runtime/sched/trace.h"

namespace go::trace {
namespace {

Event Convert(const sched::TraceEvent& e) {
  Event out;
  out.kind = static_cast<Event::Kind>(e.kind);
  out.ts_ns = e.ts;
  out.goroutine = e.g;
  out.other = e.arg;
  out.bubble_seq = e.bubble_seq;
  out.in_bubble = e.in_bubble;
  out.p = e.p;
  out.m = e.m;
  if (e.kind == sched::TraceKind::kPark) out.reason = sched::WaitReasonString(e.reason);
  return out;
}

// The timeline row of an event: its P, else its M, else "threads".
int Row(const Event& e) { return e.p >= 0 ? e.p : (e.m >= 0 ? 1000 + e.m : 9999); }
std::string RowName(int row) {
  if (row < 1000) return absl::StrFormat("P%d", row);
  if (row < 9999) return absl::StrFormat("M%d (no P)", row - 1000);
  return "threads / bubbles";
}

// A goroutine's run: from kStart to the next kStop of the same goroutine.
struct Span {
  int64_t g, start, end;
  int row;
  std::string why;
};

std::vector<Span> Spans(const std::vector<Event>& events) {
  std::vector<Span> spans;
  std::map<int64_t, std::pair<int64_t, int>> open;  // goroutine -> (start, row)
  std::map<int64_t, std::string> last_park;
  for (const Event& e : events) {
    if (e.kind == Event::kStart) open[e.goroutine] = {e.ts_ns, Row(e)};
    if (e.kind == Event::kPark) last_park[e.goroutine] = e.reason;
    if (e.kind == Event::kStop) {
      auto it = open.find(e.goroutine);
      if (it == open.end()) continue;
      spans.push_back({e.goroutine, it->second.first, e.ts_ns, it->second.second,
                       last_park.count(e.goroutine) ? last_park[e.goroutine] : ""});
      last_park.erase(e.goroutine);
      open.erase(it);
    }
  }
  return spans;
}

}  // namespace

void Start() { sched::TraceStart(); }

std::vector<Event> Stop() {
  std::vector<Event> out;
  for (const auto& e : sched::TraceStop()) out.push_back(Convert(e));
  return out;
}

std::string ToChromeJSON(const std::vector<Event>& events) {
  std::vector<std::string> items;
  std::map<int, bool> rows;
  for (const Span& s : Spans(events)) {
    rows[s.row] = true;
    items.push_back(absl::StrFormat(
        R"({"name":"g%d","cat":"goroutine","ph":"X","ts":%.3f,"dur":%.3f,"pid":1,"tid":%d,"args":{"goroutine":%d,"then":"%s"}})",
        s.g, s.start / 1e3, (s.end - s.start) / 1e3, s.row, s.g, s.why));
  }
  for (const Event& e : events) {
    std::string name;
    switch (e.kind) {
      case Event::kCreate: name = absl::StrFormat("go g%d (by g%d)", e.goroutine, e.other); break;
      case Event::kPark: name = absl::StrFormat("g%d parks: %s", e.goroutine, e.reason); break;
      case Event::kUnpark: name = absl::StrFormat("g%d readied by g%d", e.goroutine, e.other); break;
      case Event::kEnd: name = absl::StrFormat("g%d exits", e.goroutine); break;
      default: continue;
    }
    rows[Row(e)] = true;
    items.push_back(absl::StrFormat(R"({"name":"%s","cat":"sched","ph":"i","s":"t","ts":%.3f,"pid":1,"tid":%d})",
                                    name, e.ts_ns / 1e3, Row(e)));
  }
  for (const auto& [row, unused] : rows) {
    items.push_back(absl::StrFormat(
        R"({"name":"thread_name","ph":"M","pid":1,"tid":%d,"args":{"name":"%s"}})", row, RowName(row)));
  }
  return "{\"traceEvents\":[\n" + absl::StrJoin(items, ",\n") + "\n],\"displayTimeUnit\":\"ns\"}\n";
}

std::string ToHTML(const std::vector<Event>& events) {
  // A self-contained page: the spans are embedded as JSON and drawn as SVG
  // rows, one per P. No network, no libraries.
  std::vector<Span> spans = Spans(events);
  int64_t t0 = spans.empty() ? 0 : spans.front().start, t1 = t0 + 1;
  std::map<int, int> row_index;
  for (const Span& s : spans) {
    t0 = std::min(t0, s.start);
    t1 = std::max(t1, s.end);
    row_index[s.row] = 0;
  }
  int i = 0;
  for (auto& [row, idx] : row_index) idx = i++;
  std::vector<std::string> js;
  for (const Span& s : spans) {
    js.push_back(absl::StrFormat(R"({"g":%d,"s":%d,"e":%d,"r":%d,"why":"%s"})", s.g, s.start - t0,
                                 s.end - t0, row_index[s.row], s.why));
  }
  std::vector<std::string> names;
  for (const auto& [row, idx] : row_index) names.push_back("\"" + RowName(row) + "\"");
  return absl::StrFormat(R"(<!doctype html>
<html><head><meta charset="utf-8"><title>go::trace timeline</title>
<style>
body{font:13px sans-serif;margin:16px;background:#fafafa}
.row{font-weight:bold} svg{background:#fff;border:1px solid #ccc}
#info{margin-top:8px;min-height:1.5em;font-family:monospace}
</style></head><body>
<h2>Scheduler timeline</h2>
<p>%d goroutine runs over %.3f ms. Each bar is one goroutine running on a P until it parked,
yielded or exited; hover for details.</p>
<svg id="tl" width="1240"></svg><div id="info"></div>
<script>
const spans=[%s];
const rows=[%s];
const total=%d, W=1100, H=28, X0=90;
const svg=document.getElementById('tl');
svg.setAttribute('height', rows.length*H+30);
const ns='http://www.w3.org/2000/svg';
rows.forEach((name,i)=>{const t=document.createElementNS(ns,'text');t.setAttribute('x',4);
  t.setAttribute('y',i*H+18);t.setAttribute('class','row');t.textContent=name;svg.appendChild(t);});
for(let k=0;k<=10;k++){const x=X0+W*k/10,l=document.createElementNS(ns,'line');
  l.setAttribute('x1',x);l.setAttribute('x2',x);l.setAttribute('y1',0);l.setAttribute('y2',rows.length*H);
  l.setAttribute('stroke','#eee');svg.appendChild(l);const t=document.createElementNS(ns,'text');
  t.setAttribute('x',x-10);t.setAttribute('y',rows.length*H+16);t.textContent=(total*k/10/1e6).toFixed(2)+'ms';svg.appendChild(t);}
spans.forEach(s=>{const r=document.createElementNS(ns,'rect');
  r.setAttribute('x',X0+W*s.s/total);r.setAttribute('width',Math.max(1,W*(s.e-s.s)/total));
  r.setAttribute('y',s.r*H+4);r.setAttribute('height',H-8);
  r.setAttribute('fill','hsl('+((s.g*47)%%360)+',65%%,55%%)');
  const info='goroutine '+s.g+' ran '+((s.e-s.s)/1e3).toFixed(1)+' us'+(s.why?' then parked: '+s.why:'');
  const t=document.createElementNS(ns,'title');t.textContent=info;r.appendChild(t);
  r.onmouseover=()=>{document.getElementById('info').textContent=info;};svg.appendChild(r);});
</script></body></html>
)",
                         spans.size(), (t1 - t0) / 1e6, absl::StrJoin(js, ","), absl::StrJoin(names, ","),
                         t1 - t0);
}

absl::Status WriteFile(const std::string& path, const std::string& contents) {
  FILE* f = fopen(path.c_str(), "w");
  if (!f) return absl::InternalError(absl::StrFormat("open %s: %s", path, strerror(errno)));
  size_t n = fwrite(contents.data(), 1, contents.size(), f);
  if (fclose(f) != 0 || n != contents.size()) {
    return absl::InternalError(absl::StrFormat("write %s: %s", path, strerror(errno)));
  }
  return absl::OkStatus();
}

namespace {

// GO_TRACE=<prefix>: trace the whole program, write <prefix>.json/.html at exit.
struct EnvTrace {
  EnvTrace() {
    const char* p = getenv("GO_TRACE");
    if (!p || !*p) return;
    prefix = p;
    Start();
    atexit([] {
      auto events = Stop();
      (void)WriteFile(instance().prefix + ".json", ToChromeJSON(events));
      (void)WriteFile(instance().prefix + ".html", ToHTML(events));
    });
  }
  static EnvTrace& instance();
  std::string prefix;
};
EnvTrace& EnvTrace::instance() {
  static EnvTrace t;
  return t;
}
[[maybe_unused]] const EnvTrace& g_env_trace = EnvTrace::instance();

}  // namespace
}  // namespace go::trace
