package audit

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
)

// MaxLine bounds one line: a longer one is counted as malformed and skipped
// without being held in memory. The API server's largest events (an object
// of etcd's 1.5 MiB limit at RequestResponse level, twice) fit.
const MaxLine = 8 << 20

// readBuffer is the read-ahead of each input.
const readBuffer = 256 << 10

// Input is one audit log: a file, or standard input ("-").
type Input struct {
	// Name names the input in messages: its path, or "-".
	Name string
	// open returns a fresh reader of the raw bytes (gzip not yet undone).
	open func() (io.ReadCloser, error)
	// reopenable inputs are peeked for their first event time.
	reopenable bool
}

// File is the input read from path; "-" is standard input, read once.
func File(path string, stdin io.Reader) Input {
	if path == "-" {
		return Input{Name: "-", open: func() (io.ReadCloser, error) { return io.NopCloser(stdin), nil }}
	}
	return Input{Name: path, reopenable: true, open: func() (io.ReadCloser, error) { return os.Open(path) }}
}

// reader is an input opened for reading lines: gzip, detected by its magic
// bytes whatever the file is named (a rotated audit-….log.gz, or a .log an
// export compressed), is undone.
type reader struct {
	raw  io.Closer
	br   *bufio.Reader
	long []byte // a line longer than the read buffer, reassembled
	line int    // the number of the line next returns last
}

func (in Input) openReader() (*reader, error) {
	rc, err := in.open()
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(rc, readBuffer)
	magic, _ := br.Peek(2)
	if bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			rc.Close()
			return nil, fmt.Errorf("%s: reading gzip: %w", in.Name, err)
		}
		br = bufio.NewReaderSize(zr, readBuffer)
	}
	return &reader{raw: rc, br: br}, nil
}

func (r *reader) Close() error { return r.raw.Close() }

// next returns the next line without its newline, valid until the next
// call, and whether it was longer than MaxLine (then line is nil). At the
// end it returns io.EOF.
func (r *reader) next() (line []byte, tooLong bool, err error) {
	r.long = r.long[:0]
	for {
		chunk, err := r.br.ReadSlice('\n')
		switch {
		case err == nil || (errors.Is(err, io.EOF) && (len(chunk) > 0 || len(r.long) > 0 || tooLong)):
			r.line++
			if tooLong {
				return nil, true, nil
			}
			if len(r.long) == 0 {
				return chunk, false, nil
			}
			r.long = append(r.long, chunk...)
			return r.long, false, nil
		case errors.Is(err, bufio.ErrBufferFull):
			if !tooLong && len(r.long)+len(chunk) > MaxLine {
				tooLong, r.long = true, r.long[:0]
			}
			if !tooLong {
				r.long = append(r.long, chunk...)
			}
		default:
			return nil, false, err
		}
	}
}
