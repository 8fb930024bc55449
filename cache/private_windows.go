package cache

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"unsafe"

	"golang.org/x/sys/windows"
)

// On Windows permission bits mean nothing: a file's DACL says who may open
// it. As OpenSSH for Windows does with a private key, kubemint trusts a
// cache file only when its DACL grants access to nobody but its owner, the
// user running kubemint, SYSTEM and the Administrators group; the cache
// directory is given a protected DACL of that kind, which the files created
// in it inherit.

// checkPrivate refuses a cache file that is not a regular file, or whose
// DACL lets another account in. f is nil for a lock file, which holds
// nothing and inherits the directory's access list.
func checkPrivate(path string, f *os.File, fi os.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%w: %s is not a regular file", ErrInsecure, path)
	}
	if f == nil {
		return nil
	}
	user, err := currentUser()
	if err != nil {
		return fmt.Errorf("%w: cannot read the access list of %s: %v", ErrInsecure, f.Name(), err)
	}
	sd, err := windows.GetSecurityInfo(windows.Handle(f.Fd()), windows.SE_FILE_OBJECT,
		windows.OWNER_SECURITY_INFORMATION|windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		return fmt.Errorf("%w: cannot read the access list of %s: %v", ErrInsecure, f.Name(), err)
	}
	others, err := foreignGrantees(sd, user)
	if err != nil {
		return fmt.Errorf("%w: cannot read the access list of %s: %v", ErrInsecure, f.Name(), err)
	}
	if len(others) > 0 {
		return fmt.Errorf("%w: %s grants access to %s", ErrInsecure, f.Name(), strings.Join(others, ", "))
	}
	return nil
}

// makeDirPrivate replaces the cache directory's DACL with a protected one
// (owner and SYSTEM, inherited by files and folders) when the current one
// lets another account in, and reports what it found wrong.
func makeDirPrivate(cd *cacheDir, _ os.FileInfo) (string, error) {
	dir := cd.path
	user, err := currentUser()
	if err != nil {
		return "", err
	}
	others, err := dirGrantees(dir, user)
	if err != nil {
		return "", err
	}
	if len(others) == 0 {
		return "", nil
	}
	was := "granted access to " + strings.Join(others, ", ")
	system, err := windows.CreateWellKnownSid(windows.WinLocalSystemSid)
	if err != nil {
		return was, err
	}
	var entries []windows.EXPLICIT_ACCESS
	for _, sid := range []*windows.SID{user, system} {
		entries = append(entries, windows.EXPLICIT_ACCESS{
			AccessPermissions: windows.GENERIC_ALL,
			AccessMode:        windows.SET_ACCESS,
			Inheritance:       windows.SUB_CONTAINERS_AND_OBJECTS_INHERIT,
			Trustee: windows.TRUSTEE{
				TrusteeForm:  windows.TRUSTEE_IS_SID,
				TrusteeType:  windows.TRUSTEE_IS_USER,
				TrusteeValue: windows.TrusteeValueFromSID(sid),
			},
		})
	}
	acl, err := windows.ACLFromEntries(entries, nil)
	if err != nil {
		return was, err
	}
	err = windows.SetNamedSecurityInfo(dir, windows.SE_FILE_OBJECT,
		windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, nil, nil, acl, nil)
	if err != nil {
		return was, err
	}
	// Read it back: a file system that keeps no access lists (FAT, some
	// network shares, Wine's emulation) accepts the change and ignores it.
	if others, err = dirGrantees(dir, user); err != nil {
		return was, err
	}
	if len(others) > 0 {
		return was, errors.New("the file system did not keep the new access list")
	}
	return was + "; now only you and SYSTEM may open it", nil
}

// dirGrantees reads dir's access list and lists whom, besides user and the
// trusted accounts, it lets in.
func dirGrantees(dir string, user *windows.SID) ([]string, error) {
	sd, err := windows.GetNamedSecurityInfo(dir, windows.SE_FILE_OBJECT,
		windows.OWNER_SECURITY_INFORMATION|windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		return nil, fmt.Errorf("reading the access list: %w", err)
	}
	others, err := foreignGrantees(sd, user)
	if err != nil {
		return nil, fmt.Errorf("reading the access list: %w", err)
	}
	return others, nil
}

// foreignGrantees lists the accounts, other than user and the trusted
// ones, that an allow entry of sd's DACL applies to. A missing (NULL) DACL
// lets everyone in.
func foreignGrantees(sd *windows.SECURITY_DESCRIPTOR, user *windows.SID) ([]string, error) {
	dacl, _, err := sd.DACL()
	if err != nil {
		if err == windows.ERROR_OBJECT_NOT_FOUND {
			return []string{"Everyone (the file has no access list)"}, nil
		}
		return nil, err
	}
	if dacl == nil {
		return []string{"Everyone (the file has no access list)"}, nil
	}
	owner, _, _ := sd.Owner()
	var others []string
	for i := uint32(0); i < uint32(dacl.AceCount); i++ {
		var ace *windows.ACCESS_ALLOWED_ACE
		if err := windows.GetAce(dacl, i, &ace); err != nil {
			return nil, err
		}
		if ace.Header.AceType != windows.ACCESS_ALLOWED_ACE_TYPE || ace.Header.AceFlags&windows.INHERIT_ONLY_ACE != 0 {
			continue // deny entries, and entries only passed on to children
		}
		sid := (*windows.SID)(unsafe.Pointer(&ace.SidStart))
		if trusted(sid, owner, user) {
			continue
		}
		others = append(others, accountName(sid))
	}
	return others, nil
}

func trusted(sid, owner, user *windows.SID) bool {
	if (owner != nil && sid.Equals(owner)) || sid.Equals(user) {
		return true
	}
	return sid.IsWellKnown(windows.WinLocalSystemSid) || sid.IsWellKnown(windows.WinBuiltinAdministratorsSid)
}

// accountName names sid as DOMAIN\name where Windows can, else by its
// S-1-... string.
func accountName(sid *windows.SID) string {
	if account, domain, _, err := sid.LookupAccount(""); err == nil {
		if domain != "" {
			return domain + `\` + account
		}
		return account
	}
	return sid.String()
}

func currentUser() (*windows.SID, error) {
	tu, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return nil, fmt.Errorf("finding the current user: %w", err)
	}
	return tu.User.Sid, nil
}
