// Command kube-testenv runs a real kube-apiserver (k8s.io/kubernetes used as a
// library) on top of an embedded etcd, both in this one process, listening on
// 127.0.0.1 only. It is chaosql's test environment; see tests/kubeenv.py.
//
// On startup it creates (or reuses) a state directory holding the CA, the
// serving and client certificates, the service-account key, a static token
// file, the etcd data and a kubeconfig with these contexts:
//
//	admin    client certificate in group system:masters (bypasses RBAC)
//	reader   client certificate in group chaosql:readers, bound to the
//	         ClusterRole chaosql:reader (get/list/watch on everything)
//	noaccess client certificate with no RBAC bindings at all
//
// When /readyz answers ok and the RBAC objects exist, it prints exactly one
// line of JSON to stdout and keeps serving until SIGTERM/SIGINT or, unless
// -exit-on-stdin-eof=false, until its stdin reaches EOF (so the server dies
// with the test process that started it). All logs go to stderr.
//
// Running it again on the same -state-dir reuses the certificates, the etcd
// data and (unless -port says otherwise) the same ports, so a test can stop
// the server and bring the same cluster back.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

const (
	readerGroup       = "chaosql:readers"
	readerClusterRole = "chaosql:reader"
	saIssuer          = "https://kubernetes.default.svc.cluster.local"
)

// ports are persisted in the state dir so a restart reuses them.
type ports struct {
	APIServer int `json:"apiserver"`
	EtcdPeer  int `json:"etcd_peer"`
	EtcdClnt  int `json:"etcd_client"`
}

// readyLine is the single JSON line printed on stdout once the server is ready.
type readyLine struct {
	Kubeconfig      string            `json:"kubeconfig"`
	Server          string            `json:"server"`
	AdminContext    string            `json:"admin_context"`
	ReaderContext   string            `json:"reader_context"`
	NoAccessContext string            `json:"noaccess_context"`
	PID             int               `json:"pid"`
	StateDir        string            `json:"state_dir"`
	Port            int               `json:"port"`
	EtcdURL         string            `json:"etcd_url"`
	CAFile          string            `json:"ca_file"`
	Tokens          map[string]string `json:"tokens"`
	AuditLog        string            `json:"audit_log,omitempty"`
	StartupSeconds  float64           `json:"startup_seconds"`
	Restarted       bool              `json:"restarted"`
	Version         string            `json:"version"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "kube-testenv: %v\n", err)
		os.Exit(1)
	}
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, " ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func run() error {
	t0 := time.Now()
	fs := flag.NewFlagSet("kube-testenv", flag.ContinueOnError)
	stateDir := fs.String("state-dir", "", "directory for certificates, etcd data and kubeconfig (required)")
	port := fs.Int("port", 0, "apiserver secure port on 127.0.0.1 (0: reuse the saved port, else a free one)")
	exitOnEOF := fs.Bool("exit-on-stdin-eof", true, "stop when stdin reaches EOF")
	readyTimeout := fs.Duration("ready-timeout", 180*time.Second, "how long to wait for /readyz")
	audit := fs.Bool("audit", false, "write an audit log (level Metadata) to <state-dir>/audit.log")
	verbosity := fs.Int("v", 0, "kube-apiserver log verbosity")
	var extra multiFlag
	fs.Var(&extra, "apiserver-arg", "extra kube-apiserver flag, e.g. --apiserver-arg=--max-requests-inflight=800 (repeatable)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return err
	}
	if *stateDir == "" {
		return errors.New("-state-dir is required")
	}
	dir, err := filepath.Abs(*stateDir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}

	// Our own shutdown signal. kube-apiserver installs its own SIGTERM/SIGINT
	// handler (genericapiserver.SetupSignalContext) inside NewAPIServerCommand;
	// Go delivers the signal to both.
	sigCtx, stopSig := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stopSig()
	stopCh := make(chan string, 2)
	go func() { <-sigCtx.Done(); stopCh <- "signal" }()
	if *exitOnEOF {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			stopCh <- "stdin EOF"
		}()
	}

	restarted := fileExists(filepath.Join(dir, "etcd", "member"))
	p, err := loadPorts(dir, *port)
	if err != nil {
		return err
	}
	pki, err := ensurePKI(dir)
	if err != nil {
		return fmt.Errorf("certificates: %w", err)
	}

	// 1. embedded etcd
	etcd, etcdURL, err := startEtcd(dir, p)
	if err != nil {
		return fmt.Errorf("etcd: %w", err)
	}
	closeEtcd := func() {
		done := make(chan struct{})
		go func() { etcd.Close(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			fmt.Fprintln(os.Stderr, "kube-testenv: etcd did not close within 10s")
		}
	}

	// 2. kube-apiserver, through its own cobra command
	args := []string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(p.APIServer),
		"--advertise-address=127.0.0.1",
		"--endpoint-reconciler-type=none",
		"--tls-cert-file=" + pki.serverCert,
		"--tls-private-key-file=" + pki.serverKey,
		"--client-ca-file=" + pki.caCert,
		"--token-auth-file=" + pki.tokenFile,
		"--service-account-issuer=" + saIssuer,
		"--service-account-key-file=" + pki.saKey,
		"--service-account-signing-key-file=" + pki.saKey,
		"--service-cluster-ip-range=10.0.0.0/24",
		"--authorization-mode=RBAC",
		"--anonymous-auth=false",
		"--disable-admission-plugins=ServiceAccount",
		"--enable-priority-and-fairness=false",
		"--allow-privileged=true",
		"--profiling=false",
		"--v=" + strconv.Itoa(*verbosity),
	}
	auditLog := ""
	if *audit {
		auditLog = filepath.Join(dir, "audit.log")
		policy := filepath.Join(dir, "audit-policy.yaml")
		if err := os.WriteFile(policy, []byte(auditPolicy), 0o600); err != nil {
			return err
		}
		args = append(args,
			"--audit-policy-file="+policy,
			"--audit-log-path="+auditLog,
			"--audit-log-format=json",
			"--audit-log-maxsize=0",
		)
	}
	args = append(args, extra...)

	cmd := app.NewAPIServerCommand()
	cmd.SetArgs(args)
	cmd.SetOut(os.Stderr) // stdout carries only the ready line
	cmd.SetErr(os.Stderr)
	apiDone := make(chan error, 1)
	go func() { apiDone <- cmd.ExecuteContext(sigCtx) }()

	// shutdown stops the apiserver (through its own signal context), then etcd.
	shutdown := func(reason string) {
		fmt.Fprintf(os.Stderr, "kube-testenv: stopping (%s)\n", reason)
		if reason != "signal" {
			// On a real SIGTERM the apiserver's own handler has already seen
			// it; a second request would make that handler os.Exit(1).
			genericapiserver.RequestShutdown()
		}
		select {
		case err := <-apiDone:
			if err != nil {
				fmt.Fprintf(os.Stderr, "kube-testenv: apiserver: %v\n", err)
			}
		case <-time.After(15 * time.Second):
			fmt.Fprintln(os.Stderr, "kube-testenv: apiserver did not stop within 15s")
		}
		closeEtcd()
	}

	// 3. wait until ready, then RBAC objects and kubeconfig
	server := "https://127.0.0.1:" + strconv.Itoa(p.APIServer)
	adminCfg := &rest.Config{
		Host: server,
		TLSClientConfig: rest.TLSClientConfig{
			CAFile:   pki.caCert,
			CertFile: pki.adminCert,
			KeyFile:  pki.adminKey,
		},
		QPS:   100,
		Burst: 200,
	}
	readyCtx, cancelReady := context.WithTimeout(context.Background(), *readyTimeout)
	defer cancelReady()
	readyErr := make(chan error, 1)
	go func() { readyErr <- waitReady(readyCtx, adminCfg) }()
	select {
	case err := <-readyErr:
		if err != nil {
			shutdown("not ready")
			return err
		}
	case err := <-apiDone:
		closeEtcd()
		if err == nil {
			err = errors.New("exited before it was ready")
		}
		return fmt.Errorf("kube-apiserver: %w", err)
	case err := <-etcd.Err():
		shutdown("etcd failed")
		return fmt.Errorf("etcd: %w", err)
	case reason := <-stopCh:
		shutdown(reason)
		return fmt.Errorf("stopped before ready (%s)", reason)
	}

	if err := ensureRBAC(readyCtx, adminCfg); err != nil {
		shutdown("rbac failed")
		return fmt.Errorf("rbac: %w", err)
	}
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := writeKubeconfig(kubeconfig, server, pki); err != nil {
		shutdown("kubeconfig failed")
		return err
	}

	version := ""
	if cs, err := kubernetes.NewForConfig(adminCfg); err == nil {
		if v, err := cs.Discovery().ServerVersion(); err == nil {
			version = v.GitVersion
		}
	}
	line, _ := json.Marshal(readyLine{
		Kubeconfig:      kubeconfig,
		Server:          server,
		AdminContext:    "admin",
		ReaderContext:   "reader",
		NoAccessContext: "noaccess",
		PID:             os.Getpid(),
		StateDir:        dir,
		Port:            p.APIServer,
		EtcdURL:         etcdURL,
		CAFile:          pki.caCert,
		Tokens:          pki.tokens,
		AuditLog:        auditLog,
		StartupSeconds:  time.Since(t0).Seconds(),
		Restarted:       restarted,
		Version:         version,
	})
	if _, err := fmt.Fprintf(os.Stdout, "%s\n", line); err != nil {
		shutdown("stdout closed")
		return err
	}
	fmt.Fprintf(os.Stderr, "kube-testenv: ready at %s after %.1fs\n", server, time.Since(t0).Seconds())

	select {
	case reason := <-stopCh:
		shutdown(reason)
		return nil
	case err := <-apiDone:
		closeEtcd()
		if err == nil {
			return errors.New("kube-apiserver exited")
		}
		return fmt.Errorf("kube-apiserver: %w", err)
	case err := <-etcd.Err():
		shutdown("etcd failed")
		return fmt.Errorf("etcd: %w", err)
	}
}

const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Metadata
`

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// loadPorts reuses the ports saved by an earlier run on this state dir, so
// etcd's stored membership and the kubeconfig stay valid; otherwise it picks
// free ones. An explicit -port wins for the apiserver.
func loadPorts(dir string, want int) (ports, error) {
	var p ports
	path := filepath.Join(dir, "ports.json")
	if b, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(b, &p); err != nil {
			return p, fmt.Errorf("%s: %w", path, err)
		}
	}
	if want != 0 {
		p.APIServer = want
	}
	var err error
	for _, f := range []*int{&p.APIServer, &p.EtcdClnt, &p.EtcdPeer} {
		if *f == 0 {
			if *f, err = freePort(); err != nil {
				return p, err
			}
		}
	}
	b, _ := json.MarshalIndent(p, "", "  ")
	return p, os.WriteFile(path, b, 0o600)
}

func startEtcd(dir string, p ports) (*embed.Etcd, string, error) {
	cfg := embed.NewConfig()
	cfg.Name = "kube-testenv"
	cfg.Dir = filepath.Join(dir, "etcd")
	client := url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(p.EtcdClnt))}
	peer := url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(p.EtcdPeer))}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{client}, []url.URL{client}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peer}, []url.URL{peer}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.UnsafeNoFsync = true // tests only
	cfg.LogLevel = "error"
	cfg.WatchProgressNotifyInterval = 5 * time.Second
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, "", err
	}
	select {
	case <-e.Server.ReadyNotify():
		return e, client.String(), nil
	case err := <-e.Err():
		e.Close()
		return nil, "", err
	case <-time.After(60 * time.Second):
		e.Server.Stop()
		e.Close()
		return nil, "", errors.New("not ready after 60s")
	}
}

func waitReady(ctx context.Context, cfg *rest.Config) error {
	tr, err := rest.TransportFor(cfg)
	if err != nil {
		return err
	}
	hc := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	last := "no answer"
	for {
		for _, path := range []string{"/readyz", "/api/v1/namespaces/default"} {
			resp, err := hc.Get(cfg.Host + path)
			if err != nil {
				last = err.Error()
				break
			}
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				last = fmt.Sprintf("%s: %d %s", path, resp.StatusCode, strings.TrimSpace(string(body)))
				break
			}
			if path == "/api/v1/namespaces/default" {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not ready: %s", last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// ensureRBAC creates the read-only ClusterRole and its binding. The built-in
// "view" role is only an aggregationRule, filled in by kube-controller-manager,
// which does not run here, so it would grant nothing.
func ensureRBAC(ctx context.Context, cfg *rest.Config) error {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: readerClusterRole},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"get", "list", "watch"}},
			{NonResourceURLs: []string{"*"}, Verbs: []string{"get"}},
		},
	}
	if _, err := cs.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: readerClusterRole},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: readerClusterRole},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: readerGroup}},
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	return nil
}

// ---------------------------------------------------------------- certificates

type pkiFiles struct {
	caCert, caKey             string
	serverCert, serverKey     string
	adminCert, adminKey       string
	readerCert, readerKey     string
	noaccessCert, noaccessKey string
	saKey                     string
	tokenFile                 string
	tokens                    map[string]string // user -> token
}

func ensurePKI(dir string) (*pkiFiles, error) {
	pd := filepath.Join(dir, "pki")
	if err := os.MkdirAll(pd, 0o700); err != nil {
		return nil, err
	}
	f := &pkiFiles{
		caCert: filepath.Join(pd, "ca.crt"), caKey: filepath.Join(pd, "ca.key"),
		serverCert: filepath.Join(pd, "apiserver.crt"), serverKey: filepath.Join(pd, "apiserver.key"),
		adminCert: filepath.Join(pd, "admin.crt"), adminKey: filepath.Join(pd, "admin.key"),
		readerCert: filepath.Join(pd, "reader.crt"), readerKey: filepath.Join(pd, "reader.key"),
		noaccessCert: filepath.Join(pd, "noaccess.crt"), noaccessKey: filepath.Join(pd, "noaccess.key"),
		saKey:     filepath.Join(pd, "sa.key"),
		tokenFile: filepath.Join(pd, "tokens.csv"),
	}
	done := filepath.Join(pd, "complete")
	if !fileExists(done) {
		if err := generatePKI(f); err != nil {
			return nil, err
		}
		if err := os.WriteFile(done, []byte("ok\n"), 0o600); err != nil {
			return nil, err
		}
	}
	toks, err := readTokens(f.tokenFile)
	if err != nil {
		return nil, err
	}
	f.tokens = toks
	return f, nil
}

func generatePKI(f *pkiFiles) error {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	now := time.Now().Add(-time.Hour)
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "chaosql-kube-testenv-ca"},
		NotBefore:             now,
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	ca, _ := x509.ParseCertificate(caDER)
	if err := writeCertKey(f.caCert, f.caKey, caDER, caKey); err != nil {
		return err
	}
	issue := func(certPath, keyPath string, tmpl *x509.Certificate) error {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return err
		}
		tmpl.SerialNumber = serial()
		tmpl.NotBefore = now
		tmpl.NotAfter = now.Add(10 * 365 * 24 * time.Hour)
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			return err
		}
		return writeCertKey(certPath, keyPath, der, k)
	}
	if err := issue(f.serverCert, f.serverKey, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "kube-apiserver"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("10.0.0.1")},
		DNSNames:    []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"},
	}); err != nil {
		return err
	}
	clients := []struct {
		cert, key, cn string
		groups        []string
	}{
		{f.adminCert, f.adminKey, "chaosql-admin", []string{"system:masters"}},
		{f.readerCert, f.readerKey, "chaosql-reader", []string{readerGroup}},
		{f.noaccessCert, f.noaccessKey, "chaosql-noaccess", nil},
	}
	for _, c := range clients {
		if err := issue(c.cert, c.key, &x509.Certificate{
			Subject:     pkix.Name{CommonName: c.cn, Organization: c.groups},
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		}); err != nil {
			return err
		}
	}
	saKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	saDER, err := x509.MarshalECPrivateKey(saKey)
	if err != nil {
		return err
	}
	if err := os.WriteFile(f.saKey, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: saDER}), 0o600); err != nil {
		return err
	}
	// Static bearer tokens: token,user,uid,"group1,group2"
	var sb strings.Builder
	for _, u := range []struct{ name, groups string }{
		{"chaosql-admin", "system:masters"},
		{"chaosql-reader", readerGroup},
		{"chaosql-noaccess", ""},
	} {
		fmt.Fprintf(&sb, "%s,%s,%s,\"%s\"\n", randToken(), u.name, u.name, u.groups)
	}
	return os.WriteFile(f.tokenFile, []byte(sb.String()), 0o600)
}

func readTokens(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		parts := strings.SplitN(line, ",", 3)
		if len(parts) == 3 {
			out[strings.TrimPrefix(parts[1], "chaosql-")] = parts[0]
		}
	}
	return out, nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	return n
}

func randToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:20])
}

func writeCertKey(certPath, keyPath string, der []byte, key *ecdsa.PrivateKey) error {
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return err
	}
	return os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
}

// ---------------------------------------------------------------- kubeconfig

func writeKubeconfig(path, server string, f *pkiFiles) error {
	read := func(p string) (string, error) {
		b, err := os.ReadFile(p)
		return base64.StdEncoding.EncodeToString(b), err
	}
	ca, err := read(f.caCert)
	if err != nil {
		return err
	}
	// sanity check: the files we hand out must form a valid pair
	if _, err := tls.LoadX509KeyPair(f.adminCert, f.adminKey); err != nil {
		return err
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "apiVersion: v1\nkind: Config\nclusters:\n- name: kube-testenv\n  cluster:\n    server: %s\n    certificate-authority-data: %s\n", server, ca)
	sb.WriteString("users:\n")
	users := []struct{ name, cert, key string }{
		{"admin", f.adminCert, f.adminKey},
		{"reader", f.readerCert, f.readerKey},
		{"noaccess", f.noaccessCert, f.noaccessKey},
	}
	for _, u := range users {
		c, err := read(u.cert)
		if err != nil {
			return err
		}
		k, err := read(u.key)
		if err != nil {
			return err
		}
		fmt.Fprintf(&sb, "- name: %s\n  user:\n    client-certificate-data: %s\n    client-key-data: %s\n", u.name, c, k)
	}
	sb.WriteString("contexts:\n")
	for _, u := range users {
		fmt.Fprintf(&sb, "- name: %s\n  context:\n    cluster: kube-testenv\n    user: %s\n", u.name, u.name)
	}
	sb.WriteString("current-context: admin\n")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(sb.String()), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
