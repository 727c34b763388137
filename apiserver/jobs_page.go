package apiserver

import (
	"bytes"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/citypulse/citypulse/pipelines/scheduler"
)

// pageRuns is how many recent runs the status page lists.
const pageRuns = 50

var jobsPageFuncs = template.FuncMap{
	"when": func(loc *time.Location, t time.Time) string {
		if t.IsZero() {
			return "–"
		}
		return t.In(loc).Format("2006-01-02 15:04:05")
	},
	"took": func(r scheduler.RunRecord) string {
		if d := r.Duration(); d > 0 {
			return d.Round(time.Millisecond).String()
		}
		return "–"
	},
	"short": func(s string) string {
		if r := []rune(s); len(r) > 120 {
			return string(r[:120]) + "…"
		}
		return s
	},
}

// jobsPageState shows a run's state; a running run someone cancelled is marked as being stopped.
const jobsPageState = `{{define "state"}}<span class="state {{.State}}">{{.State}}</span>{{if and (eq .State "running") (not .CancelRequested.IsZero)}} <span class="state cancelling">cancelling…</span>{{end}}{{end}}`

const jobsPageHead = `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="15">
<title>{{.Title}} · CityPulse</title>
<style>
body{font:14px/1.5 system-ui,"Noto Sans CJK SC",sans-serif;margin:1.5em;color:#1d2733}
h1{font-size:1.3em} h2{font-size:1.1em;margin-top:1.6em}
table{border-collapse:collapse;width:100%} th,td{text-align:left;padding:.3em .6em;border-bottom:1px solid #dde3ea;vertical-align:top}
th{background:#f1f4f8} code,pre{font:12px ui-monospace,monospace} pre{background:#f6f8fa;padding:.6em;overflow-x:auto}
.state{font-weight:600}.succeeded{color:#137333}.failed{color:#c5221f}.running{color:#1a73e8}.pending{color:#8a6d00}.skipped,.interrupted{color:#777}
.cancelled{color:#9334e6;text-decoration:line-through}.cancelling{color:#9334e6;font-style:italic}
.muted{color:#777}
</style></head><body>
`

var jobsPage = template.Must(template.New("jobs").Funcs(jobsPageFuncs).Parse(jobsPageState + jobsPageHead + `
<h1>统一调度 · Scheduled jobs</h1>
<p class="muted">Times in {{.Loc}}. The page refreshes every 15 s. API: <a href="/api/v1/jobs">/api/v1/jobs</a></p>
<table id="jobs"><tr><th>Job</th><th>Schedule</th><th>Partition</th><th>Depends on</th><th>Next run</th><th>Last run</th></tr>
{{range .Jobs}}<tr>
<td><a href="/jobs?job={{.Name}}">{{.Name}}</a>{{if .Description}}<br><span class="muted">{{.Description}}</span>{{end}}</td>
<td>{{if .Schedule}}<code>{{.Schedule}}</code>{{else}}<span class="muted">with upstream / manual</span>{{end}}{{if .Disabled}} <b>disabled</b>{{end}}</td>
<td>{{.Partition}}</td>
<td>{{range $i, $d := .DependsOn}}{{if $i}}, {{end}}{{$d}}{{else}}–{{end}}</td>
<td>{{if .NextPartition}}{{when $.Loc .NextRun}} → {{.NextPartition}}{{else}}–{{end}}</td>
<td>{{with .LastRun}}<a href="/jobs/runs/{{.ID}}">#{{.ID}}</a> {{.Partition}} {{template "state" .}}{{else}}–{{end}}</td>
</tr>{{end}}
</table>
<h2>Recent runs{{if .Job}} of {{.Job}} (<a href="/jobs">all</a>){{end}}</h2>
<table id="runs"><tr><th>Run</th><th>Job</th><th>Partition</th><th>State</th><th>Attempt</th><th>Trigger</th><th>Started</th><th>Took</th><th>Rows</th><th>Error</th></tr>
{{range .Runs}}<tr>
<td><a href="/jobs/runs/{{.ID}}">#{{.ID}}</a></td><td>{{.Job}}</td><td>{{.Partition}}</td>
<td>{{template "state" .}}</td><td>{{.Attempt}}/{{.MaxAttempts}}</td><td>{{.Trigger}}</td>
<td>{{when $.Loc .StartedAt}}</td><td>{{took .}}</td><td>{{.Rows}}</td><td>{{short .Error}}</td>
</tr>{{else}}<tr><td colspan="10" class="muted">no runs yet</td></tr>{{end}}
</table>
</body></html>
`))

var runPage = template.Must(template.New("run").Funcs(jobsPageFuncs).Parse(jobsPageState + jobsPageHead + `
<p><a href="/jobs">← all jobs</a> · <a href="/api/v1/runs/{{.Run.ID}}">JSON</a></p>
{{with .Run}}<h1>Run #{{.ID}}: {{.Job}} for {{.Partition}} — {{template "state" .}}</h1>
<table id="run">
<tr><th>Trigger</th><td>{{.Trigger}} by {{.RequestedBy}}</td></tr>
<tr><th>Attempts</th><td>{{.Attempt}} of {{.MaxAttempts}}</td></tr>
<tr><th>Created</th><td>{{when $.Loc .CreatedAt}}</td></tr>
<tr><th>Started</th><td>{{when $.Loc .StartedAt}}</td></tr>
<tr><th>Finished</th><td>{{when $.Loc .FinishedAt}} ({{took .}})</td></tr>
{{if not .NotBefore.IsZero}}<tr><th>Not before</th><td>{{when $.Loc .NotBefore}}</td></tr>{{end}}
{{if not .CancelRequested.IsZero}}<tr><th>Cancel requested</th><td>by {{.CancelledBy}} at {{when $.Loc .CancelRequested}}</td></tr>{{end}}
{{if .LeaseOwner}}<tr><th>Lease</th><td>{{.LeaseOwner}} until {{when $.Loc .LeaseExpires}}</td></tr>{{end}}
<tr><th>Rows</th><td>{{.Rows}} {{.Message}}</td></tr>
{{if .Error}}<tr><th>Error</th><td><pre>{{.Error}}</pre></td></tr>{{end}}
</table>
{{range .Attempts}}<h2>Attempt {{.Attempt}} on {{.Owner}}: <span class="state {{.State}}">{{.State}}</span></h2>
<p>{{when $.Loc .StartedAt}} – {{when $.Loc .FinishedAt}}, {{.Rows}} rows</p>
{{if .Error}}<pre>{{.Error}}</pre>{{end}}
{{if .Log}}<pre class="log">{{range .Log}}{{.}}
{{end}}</pre>{{end}}
{{end}}{{end}}
</body></html>
`))

func (h *jobsHandler) page(w http.ResponseWriter, r *http.Request) {
	jobName := r.URL.Query().Get("job")
	jobs, err := h.sched.Jobs(r.Context())
	if err != nil {
		h.failPage(w, r, err)
		return
	}
	runs, err := h.sched.Runs(r.Context(), scheduler.RunFilter{Job: jobName, Limit: pageRuns})
	if err != nil {
		h.failPage(w, r, err)
		return
	}
	h.render(w, r, jobsPage, map[string]any{"Title": "Jobs", "Loc": h.sched.Location(), "Jobs": jobs, "Runs": runs, "Job": jobName})
}

func (h *jobsHandler) runPage(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		http.Error(w, "not a run id", http.StatusBadRequest)
		return
	}
	run, err := h.sched.GetRun(r.Context(), id)
	if err != nil {
		h.failPage(w, r, err)
		return
	}
	h.render(w, r, runPage, map[string]any{"Title": "Run #" + strconv.FormatInt(id, 10), "Loc": h.sched.Location(), "Run": run})
}

// render executes the page into a buffer first, so that a template error is a clean 500.
func (h *jobsHandler) render(w http.ResponseWriter, r *http.Request, t *template.Template, data any) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		h.failPage(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = buf.WriteTo(w) // the client went away
}

// failPage answers a page request's error as plain text, with the API's status codes.
func (h *jobsHandler) failPage(w http.ResponseWriter, r *http.Request, err error) {
	status, _, msg := h.classify(r, err)
	http.Error(w, http.StatusText(status)+": "+msg, status)
}
