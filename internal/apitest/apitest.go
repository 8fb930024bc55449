// Package apitest is a small in-memory Kubernetes API server for unit
// tests of the packages that talk to one (exchange, provision): objects
// are created, read and deleted as JSON by path, every request is
// authenticated by its bearer token and authorized by one function, and
// the reviews (SelfSubjectAccessReview, SelfSubjectReview,
// SelfSubjectRulesReview) and TokenRequest are answered from the same
// state. It plays the edge cases a real server cannot be made to produce
// on demand; the e2e suite runs the real kube-apiserver.
package apitest

import (
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
)

// AdminToken authenticates as Admin, who may do everything unless Allow
// says otherwise.
const (
	AdminToken = "admin-token"
	Admin      = "admin"
)

// Server is the fake API server. Set its fields before the first request.
type Server struct {
	// URL is https; CAData (PEM) verifies it.
	URL    string
	CAData []byte
	// Allow decides every request (verb as in RBAC: get, create, delete),
	// and answers SelfSubjectAccessReviews. Nil allows everything.
	Allow func(user string, a authorizationv1.ResourceAttributes) bool
	// Rules answers a SelfSubjectRulesReview.
	Rules func(user, ns string) []authorizationv1.ResourceRule

	mu       sync.Mutex
	users    map[string]string // bearer token -> user name
	objects  map[string][]byte // item path -> JSON
	requests []string          // "METHOD path", in order
	minted   int
}

// New starts a server that t closes.
func New(t testing.TB) *Server {
	s := &Server{users: map[string]string{AdminToken: Admin}, objects: map[string][]byte{}}
	// TLS, because client-go sends a kubeconfig's credentials only over it.
	srv := httptest.NewTLSServer(s)
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	s.CAData = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	return s
}

// Config is a client configuration for the user that token authenticates.
func (s *Server) Config(token string) *rest.Config {
	return &rest.Config{Host: s.URL, BearerToken: token, TLSClientConfig: rest.TLSClientConfig{CAData: s.CAData}}
}

// Put stores obj (an API object with its TypeMeta set) at the item path,
// as if it had been created: /api/v1/namespaces/ci,
// /apis/rbac.authorization.k8s.io/v1/clusterroles/edit.
func (s *Server) Put(path string, obj any) {
	data, err := json.Marshal(obj)
	if err != nil {
		panic(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objects[path] = data
}

// Requests lists the requests served so far, as "METHOD path".
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r.Method+" "+r.URL.Path)
	user, ok := s.users[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	if !ok {
		status(w, http.StatusUnauthorized, metav1.StatusReasonUnauthorized, "Unauthorized")
		return
	}
	body, _ := io.ReadAll(r.Body)
	path := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case r.Method == http.MethodPost && strings.HasSuffix(path, "/selfsubjectaccessreviews"):
		var in authorizationv1.SelfSubjectAccessReview
		_ = json.Unmarshal(body, &in)
		in.Status.Allowed = in.Spec.ResourceAttributes != nil && s.allowed(user, *in.Spec.ResourceAttributes)
		reply(w, http.StatusCreated, in)
	case r.Method == http.MethodPost && strings.HasSuffix(path, "/selfsubjectreviews"):
		reply(w, http.StatusCreated, authenticationv1.SelfSubjectReview{TypeMeta: metav1.TypeMeta{Kind: "SelfSubjectReview", APIVersion: "authentication.k8s.io/v1"}, Status: authenticationv1.SelfSubjectReviewStatus{UserInfo: authenticationv1.UserInfo{Username: user}}})
	case r.Method == http.MethodPost && strings.HasSuffix(path, "/selfsubjectrulesreviews"):
		var in authorizationv1.SelfSubjectRulesReview
		_ = json.Unmarshal(body, &in)
		if s.Rules != nil {
			in.Status.ResourceRules = s.Rules(user, in.Spec.Namespace)
		}
		reply(w, http.StatusCreated, in)
	default:
		s.object(w, r.Method, path, user, body)
	}
}

// object serves the CRUD of objects and TokenRequest.
func (s *Server) object(w http.ResponseWriter, method, path, user string, body []byte) {
	a := attributes(path)
	switch method {
	case http.MethodGet:
		a.Verb = "get"
	case http.MethodPost:
		a.Verb = "create"
	case http.MethodDelete:
		a.Verb = "delete"
	}
	if !s.allowed(user, a) {
		status(w, http.StatusForbidden, metav1.StatusReasonForbidden, fmt.Sprintf("User %q cannot %s resource %q in API group %q", user, a.Verb, a.Resource, a.Group))
		return
	}
	switch {
	case method == http.MethodPost && a.Subresource == "token":
		s.mint(w, a, body)
	case method == http.MethodGet || method == http.MethodDelete:
		data, ok := s.objects[path]
		if !ok {
			status(w, http.StatusNotFound, metav1.StatusReasonNotFound, fmt.Sprintf("%s %q not found", a.Resource, a.Name))
			return
		}
		if method == http.MethodDelete {
			delete(s.objects, path)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(data)
	case method == http.MethodPost:
		var meta struct {
			metav1.ObjectMeta `json:"metadata"`
		}
		_ = json.Unmarshal(body, &meta)
		item := path + "/" + meta.Name
		if _, ok := s.objects[item]; ok {
			status(w, http.StatusConflict, metav1.StatusReasonAlreadyExists, fmt.Sprintf("%s %q already exists", a.Resource, meta.Name))
			return
		}
		s.objects[item] = body
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write(body)
	default:
		status(w, http.StatusMethodNotAllowed, metav1.StatusReasonMethodNotAllowed, method+" is not served")
	}
}

// mint answers a TokenRequest with a new token that authenticates as the
// service account.
func (s *Server) mint(w http.ResponseWriter, a authorizationv1.ResourceAttributes, body []byte) {
	var tr authenticationv1.TokenRequest
	_ = json.Unmarshal(body, &tr)
	secs := int64(3600)
	if tr.Spec.ExpirationSeconds != nil {
		secs = *tr.Spec.ExpirationSeconds
	}
	s.minted++
	token := fmt.Sprintf("minted-%d", s.minted)
	s.users[token] = "system:serviceaccount:" + a.Namespace + ":" + a.Name
	tr.Status = authenticationv1.TokenRequestStatus{Token: token, ExpirationTimestamp: metav1.NewTime(time.Now().Add(time.Duration(secs) * time.Second))}
	reply(w, http.StatusCreated, tr)
}

func (s *Server) allowed(user string, a authorizationv1.ResourceAttributes) bool {
	return s.Allow == nil || s.Allow(user, a)
}

// attributes reads the group, resource and names of an API path:
// /api/v1/namespaces/NS/RESOURCE/NAME/SUB, /apis/GROUP/VERSION/RESOURCE/NAME.
func attributes(path string) authorizationv1.ResourceAttributes {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	var a authorizationv1.ResourceAttributes
	switch {
	case len(parts) >= 2 && parts[0] == "api":
		parts = parts[2:]
	case len(parts) >= 3 && parts[0] == "apis":
		a.Group, parts = parts[1], parts[3:]
	}
	if len(parts) >= 3 && parts[0] == "namespaces" {
		a.Namespace, parts = parts[1], parts[2:]
	} else if len(parts) == 2 && parts[0] == "namespaces" {
		// the namespace itself
		return authorizationv1.ResourceAttributes{Resource: "namespaces", Name: parts[1]}
	}
	if len(parts) > 0 {
		a.Resource = parts[0]
	}
	if len(parts) > 1 {
		a.Name = parts[1]
	}
	if len(parts) > 2 {
		a.Subresource = parts[2]
	}
	return a
}

func reply(w http.ResponseWriter, code int, obj any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(obj)
}

func status(w http.ResponseWriter, code int, reason metav1.StatusReason, msg string) {
	reply(w, code, metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusFailure, Reason: reason, Code: int32(code), Message: msg})
}
