package cache

import (
	"strings"
	"testing"

	"golang.org/x/sys/windows"
)

// TestWindowsNullDACL builds a present but NULL access list, which grants
// everyone everything. (Wine parses SDDL's NO_ACCESS_CONTROL as an empty
// list instead, so the table below cannot hold this case.)
func TestWindowsNullDACL(t *testing.T) {
	user, err := currentUser()
	if err != nil {
		t.Fatal(err)
	}
	sd, err := windows.NewSecurityDescriptor()
	if err != nil {
		t.Fatal(err)
	}
	if err := sd.SetDACL(nil, true, false); err != nil {
		t.Fatal(err)
	}
	got, err := foreignGrantees(sd, user)
	if err != nil || len(got) != 1 || !strings.Contains(got[0], "Everyone") {
		t.Fatalf("foreignGrantees(NULL DACL) = %q, %v; want Everyone", got, err)
	}
}

// TestWindowsForeignGrantees reads access lists written in SDDL, the form
// icacls and PowerShell's Get-Acl show, as Windows would report them for a
// cache file.
func TestWindowsForeignGrantees(t *testing.T) {
	user, err := currentUser()
	if err != nil {
		t.Fatal(err)
	}
	me := user.String()
	tests := []struct {
		name string
		sddl string
		want []string // SIDs or names that must be reported; nil for a private file
	}{
		{"owner only", "O:" + me + "D:P(A;;FA;;;" + me + ")", nil},
		{"owner, SYSTEM and Administrators, as under a user profile", "O:" + me + "D:(A;ID;FA;;;SY)(A;ID;FA;;;BA)(A;ID;FA;;;" + me + ")", nil},
		{"another owner that the user may still open", "O:BA" + "D:(A;;FA;;;BA)(A;;FA;;;" + me + ")", nil},
		{"Everyone may read", "O:" + me + "D:(A;;FA;;;" + me + ")(A;;FR;;;WD)", []string{"Everyone"}},
		{"Users may read", "O:" + me + "D:(A;;FA;;;" + me + ")(A;;0x1200a9;;;BU)", []string{"Users"}},
		{"Authenticated Users, inherited", "O:" + me + "D:(A;ID;FA;;;" + me + ")(A;ID;FR;;;AU)", []string{"Authenticated Users"}},
		{"another account", "O:" + me + "D:(A;;FA;;;" + me + ")(A;;FA;;;S-1-5-21-1-2-3-4242)", []string{"S-1-5-21-1-2-3-4242"}},
		{"an entry only passed on to children", "O:" + me + "D:(A;;FA;;;" + me + ")(A;OICIIO;FA;;;CO)(A;OICIIO;FR;;;WD)", nil},
		{"Everyone denied", "O:" + me + "D:(D;;FA;;;WD)(A;;FA;;;" + me + ")", nil},
		{"no access list at all", "O:" + me, []string{"Everyone (the file has no access list)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sd, err := windows.SecurityDescriptorFromString(tt.sddl)
			if err != nil {
				t.Fatalf("parsing %s: %v", tt.sddl, err)
			}
			got, err := foreignGrantees(sd, user)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("foreignGrantees(%s) = %q, want %q", tt.sddl, got, tt.want)
			}
			for i := range got {
				if !strings.Contains(got[i], tt.want[i]) {
					t.Errorf("foreignGrantees(%s)[%d] = %q, want it to name %q", tt.sddl, i, got[i], tt.want[i])
				}
			}
		})
	}
}
