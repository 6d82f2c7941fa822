package ecstest

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// handle serves one RPC request; see the package documentation for the order
// of checks. The Call is recorded before anything is written, so a client that
// has its answer also finds its call in Calls.
func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	if !s.enter() {
		reset(w) // closing: no answer rather than an empty 200
		return
	}
	defer s.inflight.Done()
	now := s.clock()
	p, perr := readParams(r)
	call := Call{Method: r.Method, Action: p.Get("Action"), Params: p, Header: r.Header.Clone(), Time: now}
	reply := func(resp *wireResponse, e *apiError) {
		call.Code = "Success"
		if e != nil {
			call.Code = e.code
		}
		s.record(call)
		writeResult(w, r, resp, e)
	}
	if perr != nil {
		reply(nil, perr)
		return
	}
	if e := route(r, p); e != nil {
		reply(nil, e)
		return
	}
	if p.Get("Version") == STSVersion {
		s.serveSTS(w, r, p, call)
		return
	}
	cred, e := s.authenticate(r.Method, p, now)
	if e != nil {
		reply(nil, e)
		return
	}
	s.mu.Lock()
	f, faulty := s.takeFault()
	s.mu.Unlock()
	if !faulty {
		reply(s.describe(p, cred))
		return
	}
	if fe := f.error(); fe != nil {
		reply(nil, fe)
		return
	}
	switch f.Kind {
	case FaultMalformedBody:
		call.Code = CallMalformed
		s.record(call)
		setHeaders(w.Header(), newRequestID())
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, malformedBody)
	case FaultReset:
		call.Code = CallReset
		s.record(call)
		reset(w)
	case FaultTruncatedBody:
		call.Code = CallTruncated
		s.record(call)
		resp, e := s.describe(p, cred)
		status, id, body := render(r, resp, e)
		h := http.Header{}
		setHeaders(h, id)
		writeTruncated(w, status, h, body)
	case FaultDelay:
		call.Code = CallDelay
		s.record(call)
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			reset(w)
			return
		case <-s.closing:
			reset(w) // never let net/http complete an empty 200
			return
		}
		resp, e := s.describe(p, cred)
		writeResult(w, r, resp, e)
	default:
		reply(s.describe(p, cred))
	}
}

// readParams merges the query string and, for POST, a form-encoded body.
func readParams(r *http.Request) (url.Values, *apiError) {
	p, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return url.Values{}, errInvalidParam("InvalidParameter", "query string")
	}
	if r.Method != http.MethodPost {
		return p, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil || len(body) == 0 {
		return p, nil
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, _ := mime.ParseMediaType(ct); mt != "application/x-www-form-urlencoded" {
			return p, nil
		}
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return p, errInvalidParam("InvalidParameter", "request body")
	}
	for k, vs := range form {
		p[k] = append(p[k], vs...)
	}
	return p, nil
}

// describe runs DescribeInstances for an authenticated caller.
func (s *Server) describe(p url.Values, cred Credential) (*wireResponse, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, e := parseQuery(p, func(r string) bool { return s.regions[r] })
	if e != nil {
		return nil, e
	}
	pg, e := parsePaging(p)
	if e != nil {
		return nil, e
	}
	if cred.Denied {
		if q.dryRun {
			return nil, errForbiddenRAM()
		}
		// The real API's trap: no permission looks like no instances.
		resp := wireResponse{PageNumber: pg.pageNumber, PageSize: pg.pageSize, Instances: wireInstances{Instance: []wireInstance{}}}
		if pg.token {
			resp.PageNumber, resp.PageSize = 1, pg.maxResults
		}
		return &resp, nil
	}
	if q.dryRun {
		return nil, errDryRun()
	}
	var matches []*Instance
	for id := range s.fleet {
		in := s.fleet[id]
		if q.match(&in) {
			matches = append(matches, &in)
		}
	}
	slices.SortFunc(matches, func(a, b *Instance) int { return strings.Compare(a.ID, b.ID) })
	resp, e := s.page(&q, pg, filterKey(p), matches)
	if e != nil {
		return nil, e
	}
	return &resp, nil
}

func setHeaders(h http.Header, requestID string) {
	h.Set("Content-Type", "application/json;charset=utf-8")
	h.Set("x-acs-request-id", requestID)
}

// render returns the status, request id and JSON body of a result.
func render(r *http.Request, resp *wireResponse, e *apiError) (int, string, []byte) {
	id := newRequestID()
	if e == nil {
		resp.RequestID = id
		return http.StatusOK, id, marshal(resp)
	}
	we := wireError{
		RequestID: id,
		HostID:    r.Host,
		Code:      e.code,
		Message:   e.message,
		Recommend: "https://api.aliyun.com/troubleshoot?q=" + url.QueryEscape(e.code) + "&product=Ecs&requestId=" + id,
	}
	if e.denied {
		we.AccessDeniedDetail = &wireDenyDetail{
			AuthAction:        "ecs:DescribeInstances",
			AuthPrincipalType: "SubUser",
			NoPermissionType:  "ImplicitDeny",
			PolicyType:        "AccountLevelIdentityBasedPolicy",
		}
	}
	return e.status, id, marshal(we)
}

// marshal encodes v as the API does: no HTML escaping, no trailing newline.
func marshal(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

func writeResult(w http.ResponseWriter, r *http.Request, resp *wireResponse, e *apiError) {
	status, id, body := render(r, resp, e)
	setHeaders(w.Header(), id)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
