package kubeconfig

import (
	"errors"
	"fmt"
	"os"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kubemint/kubemint/credential"
	"github.com/kubemint/kubemint/internal/hint"
)

// Change is what writing a plan (or creating an object) did, or in a dry
// run would do.
type Change int

const (
	Unchanged Change = iota
	Created
	Updated
)

// CreatedIf is Created when b, else Unchanged.
func CreatedIf(b bool) Change {
	if b {
		return Created
	}
	return Unchanged
}

// PlanRequest names the context setup and use write.
type PlanRequest struct {
	// SourceKubeconfig is --source-kubeconfig ("" for the default
	// locations), Source the source context's name, Server and CAData its
	// cluster.
	SourceKubeconfig, Source string
	Server                   string
	CAData                   []byte
	// ContextName names the context and its user; "" is NS-NAME@CLUSTER.
	ContextName     string
	Namespace, Name string
	// Out is --kubeconfig-out: a standalone kubeconfig instead of an edit
	// of the source's.
	Out string
	// Command finds kubemint's path for the exec entry.
	Command func() (string, error)
	// Token are the exec entry's token options; the plan adds the
	// --source-kubeconfig the entry needs.
	Token credential.Options
}

// Plan is the kubeconfig change setup and use make: an exec user and
// context added to the kubeconfig the source context came from, or a
// standalone kubeconfig (--kubeconfig-out). It is worked out, and checked,
// before anything is created on the cluster.
type Plan struct {
	Context Context
	// File is where the context goes.
	File string
	// out is the --kubeconfig-out file, else empty.
	out string
	// For the source kubeconfig: the merged configuration, as kubectl sees it.
	raw *clientcmdapi.Config
	// For --kubeconfig-out: the cluster and the file's new content.
	clusterName string
	cluster     *clientcmdapi.Cluster
	data        []byte
	// command is the exec entry's command.
	command string
	// Existing is the token options of the context's exec entry as it is
	// now, when one of that name runs kubemint token for the same
	// account; nil otherwise.
	Existing *credential.Options
}

// NewPlan works out the context whose exec entry runs kubemint token with
// r.Token, and where it goes.
func NewPlan(r PlanRequest) (*Plan, error) {
	po := clientcmd.NewDefaultPathOptions()
	if r.SourceKubeconfig != "" {
		po.LoadingRules.ExplicitPath = r.SourceKubeconfig
	}
	raw, err := po.GetStartingConfig()
	if err != nil {
		return nil, err
	}
	clusterName := raw.Contexts[r.Source].Cluster
	c := Context{Name: r.ContextName, Cluster: clusterName, Namespace: r.Namespace}
	if c.Name == "" {
		c.Name = r.Namespace + "-" + r.Name + "@" + clusterName
	}
	o := r.Token
	if o.SourceKubeconfig, err = SourceFileFor(po, r.Source, r.Out != ""); err != nil {
		return nil, err
	}
	command, err := r.Command()
	if err != nil {
		return nil, err
	}
	c.Exec = Exec(command, o)
	// A new context goes into the file the source context came from, not
	// the first file of $KUBECONFIG, which may be another person's.
	file, err := SourceFileFor(po, r.Source, true)
	if err != nil {
		file = po.GetDefaultFilename()
	}
	p := &Plan{Context: c, raw: raw, File: file, out: r.Out, clusterName: clusterName, command: command}
	p.Existing = existing(raw, c.Name, r.Namespace+"/"+r.Name)
	if r.Out != "" {
		p.File = r.Out
		p.cluster = clientcmdapi.NewCluster()
		p.cluster.Server = r.Server
		p.cluster.CertificateAuthorityData = r.CAData
		if old := raw.Clusters[clusterName]; old != nil {
			p.cluster.TLSServerName, p.cluster.ProxyURL = old.TLSServerName, old.ProxyURL
		}
		if cfg, err := clientcmd.LoadFromFile(r.Out); err == nil {
			p.Existing = existing(cfg, c.Name, r.Namespace+"/"+r.Name)
		}
		if p.data, err = Standalone(clusterName, p.cluster, c); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// existing is the token options of the exec entry of user name in cfg,
// when it runs kubemint token for account; nil otherwise.
func existing(cfg *clientcmdapi.Config, name, account string) *credential.Options {
	u := cfg.AuthInfos[name]
	if u == nil || u.Exec == nil {
		return nil
	}
	o, err := TokenOptions(u.Exec)
	if err != nil || o.ServiceAccount != account {
		return nil
	}
	return &o
}

// SetToken replans the exec entry with the token options o (with the
// --source-kubeconfig the plan worked out kept): setup and use keep what
// an existing context set and the run did not say.
func (p *Plan) SetToken(o credential.Options) error {
	old, err := TokenOptions(p.Context.Exec)
	if err != nil {
		return err
	}
	o.SourceKubeconfig = old.SourceKubeconfig
	p.Context.Exec = Exec(p.command, o)
	if p.out != "" {
		if p.data, err = Standalone(p.clusterName, p.cluster, p.Context); err != nil {
			return err
		}
	}
	return nil
}

// Check reports, changing nothing, what would stop Write: a file to
// replace without force, a user of the context's name that kubemint did
// not write, a file that cannot be written.
func (p *Plan) Check(force bool) error {
	if p.out != "" {
		return ForceHint(CheckStandalone(p.out, p.data, force))
	}
	if err := Conflict(p.raw, p.Context); err != nil {
		return hint.Wrap(err, "choose another --context-name")
	}
	if u := p.raw.AuthInfos[p.Context.Name]; u != nil && u.LocationOfOrigin != "" {
		if err := CheckWritable(u.LocationOfOrigin); err != nil {
			return err
		}
	}
	return CheckWritable(p.File)
}

// State is what Write would do.
func (p *Plan) State() Change {
	if p.out != "" {
		if _, err := os.Lstat(p.out); err != nil {
			return Created
		}
		if CheckStandalone(p.out, p.data, false) == nil {
			return Unchanged
		}
		return Updated
	}
	if holds(p.raw, p.Context) {
		return Unchanged
	}
	if p.raw.Contexts[p.Context.Name] != nil || p.raw.AuthInfos[p.Context.Name] != nil {
		return Updated
	}
	return Created
}

// Write writes the plan; an edited kubeconfig is first backed up beside
// itself (as convert does), named with the time now. It returns what
// changed and the backups.
func (p *Plan) Write(force bool, now time.Time) (Change, []string, error) {
	before := p.State()
	if p.out != "" {
		changed, err := WriteStandalone(p.out, p.clusterName, p.cluster, p.Context, force)
		if !changed || err != nil {
			return Unchanged, nil, ForceHint(err)
		}
		return before, nil, nil
	}
	changed, backups, err := AddContext(p.raw, p.File, p.Context, now)
	if foreign := (*ForeignUserError)(nil); errors.As(err, &foreign) {
		return Unchanged, nil, hint.Wrap(err, "choose another --context-name")
	}
	if !changed || err != nil {
		return Unchanged, backups, err
	}
	return before, backups, nil
}

// KubectlLine is how to use the new context: with --kubeconfig when it is
// in a file of its own, which kubectl does not read unless told.
func (p *Plan) KubectlLine() string {
	if p.out != "" {
		return fmt.Sprintf("kubectl --kubeconfig=%s --context=%s", p.out, p.Context.Name)
	}
	return "kubectl --context " + p.Context.Name
}

// ForceHint adds the fix to *ExistsError.
func ForceHint(err error) error {
	var exists *ExistsError
	if errors.As(err, &exists) {
		return hint.Wrap(fmt.Errorf("not writing over %s: %w", exists.Path, err), "pass --force to replace it, or choose another file")
	}
	return err
}
