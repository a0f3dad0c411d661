package githubtest

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

func (e *Emulator) handleGetRepo(c *call) response {
	out := e.repoJSON(c.urls, c.repo())
	out["network_count"], out["subscribers_count"] = 0, 0
	if c.token != nil && c.token.installation == 0 {
		out["permissions"] = e.userRepoPermissions(c.repo(), c.token.login)
	}
	return ok(out)
}

// wrapBase64 encodes content like GitHub's contents API: base64 with a
// newline after every 60 characters.
func wrapBase64(content []byte) string {
	enc := base64.StdEncoding.EncodeToString(content)
	var b strings.Builder
	for len(enc) > 60 {
		b.WriteString(enc[:60])
		b.WriteByte('\n')
		enc = enc[60:]
	}
	b.WriteString(enc)
	if b.Len() > 0 {
		b.WriteByte('\n')
	}
	return b.String()
}

func (e *Emulator) handleGetContents(c *call) response {
	r := c.repo()
	ref := c.query("ref")
	if ref == "" {
		ref = r.DefaultBranch
	}
	g, err := r.open()
	if err != nil {
		return errorResponse(http.StatusInternalServerError, err.Error())
	}
	sha, err := resolveIn(g, ref)
	if err != nil {
		return errorResponse(http.StatusNotFound, "No commit found for the ref "+ref)
	}
	commit, err := g.CommitObject(sha)
	if err != nil {
		return errorResponse(http.StatusInternalServerError, err.Error())
	}
	root, err := commit.Tree()
	if err != nil {
		return errorResponse(http.StatusInternalServerError, err.Error())
	}
	p := strings.Trim(c.params["path"], "/")
	entryJSON := func(name, full string, mode filemode.FileMode, hash plumbing.Hash, size int64) obj {
		api := r.apiURL(c.urls)
		self := fmt.Sprintf("%s/contents/%s?ref=%s", api, full, url.QueryEscape(ref))
		kind, gitURL := "file", api+"/git/blobs/"+hash.String()
		html := fmt.Sprintf("%s/blob/%s/%s", r.htmlURL(c.urls), ref, full)
		var download any = fmt.Sprintf("%s/raw/%s/%s", r.htmlURL(c.urls), ref, full)
		if mode == filemode.Dir {
			kind, gitURL, download = "dir", api+"/git/trees/"+hash.String(), nil
			html = fmt.Sprintf("%s/tree/%s/%s", r.htmlURL(c.urls), ref, full)
		}
		return obj{
			"type": kind, "size": size, "name": name, "path": full, "sha": hash.String(),
			"url": self, "git_url": gitURL, "html_url": html, "download_url": download,
			"_links": obj{"self": self, "git": gitURL, "html": html},
		}
	}
	tree := root
	if p != "" {
		entry, err := root.FindEntry(p)
		if errors.Is(err, object.ErrEntryNotFound) || errors.Is(err, object.ErrDirectoryNotFound) {
			return notFound()
		}
		if err != nil {
			return errorResponse(http.StatusInternalServerError, err.Error())
		}
		if entry.Mode != filemode.Dir {
			blob, err := g.BlobObject(entry.Hash)
			if err != nil {
				return errorResponse(http.StatusInternalServerError, err.Error())
			}
			rd, err := blob.Reader()
			if err != nil {
				return errorResponse(http.StatusInternalServerError, err.Error())
			}
			defer rd.Close()
			content, err := io.ReadAll(rd)
			if err != nil {
				return errorResponse(http.StatusInternalServerError, err.Error())
			}
			out := entryJSON(path.Base(p), p, entry.Mode, entry.Hash, blob.Size)
			out["content"], out["encoding"] = wrapBase64(content), "base64"
			return ok(out)
		}
		if tree, err = g.TreeObject(entry.Hash); err != nil {
			return errorResponse(http.StatusInternalServerError, err.Error())
		}
	}
	list := []obj{}
	for _, entry := range tree.Entries {
		full := strings.TrimPrefix(p+"/"+entry.Name, "/")
		var size int64
		if entry.Mode != filemode.Dir {
			if blob, err := g.BlobObject(entry.Hash); err == nil {
				size = blob.Size
			}
		}
		list = append(list, entryJSON(entry.Name, full, entry.Mode, entry.Hash, size))
	}
	return ok(list)
}

func (e *Emulator) handleGetRef(c *call) response {
	r := c.repo()
	g, err := r.open()
	if err != nil {
		return errorResponse(http.StatusInternalServerError, err.Error())
	}
	name := "refs/" + strings.TrimPrefix(c.params["ref"], "refs/")
	ref, err := g.Reference(plumbing.ReferenceName(name), true)
	if err != nil {
		return notFound()
	}
	api := r.apiURL(c.urls)
	return ok(obj{
		"ref": name, "node_id": nodeIDString("Ref", name), "url": api + "/git/" + name,
		"object": obj{"type": "commit", "sha": ref.Hash().String(), "url": api + "/git/commits/" + ref.Hash().String()},
	})
}

func (e *Emulator) handleGetCommit(c *call) response {
	r := c.repo()
	g, err := r.open()
	if err != nil {
		return errorResponse(http.StatusInternalServerError, err.Error())
	}
	sha, err := resolveIn(g, c.params["ref"])
	if err != nil {
		return validationFailed("Commit", "ref", "invalid", "No commit found for SHA: "+c.params["ref"])
	}
	cm, err := g.CommitObject(sha)
	if err != nil {
		return errorResponse(http.StatusInternalServerError, err.Error())
	}
	return ok(e.commitJSON(c.urls, r, cm))
}
