// Package buildinfo records how the binary was built (set by the Makefile
// through -ldflags -X) and checks that the CPU can run it.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"golang.org/x/sys/cpu"
)

// Set at link time by the Makefile.
var (
	ISA        = "unknown" // the -march value native code was compiled for
	Features   = ""        // comma-separated CPU features that ISA implies
	NativeHash = ""        // prefix of the sha256 of libwhisper.a
	WhisperRN  = ""        // version of the whisper.rn sources
	CFlags     = ""        // optimisation flags of the native code
	Version    = "dev"
)

// ModuleVersion returns the version of a module dependency, or "" if the
// binary was not built with module information.
func ModuleVersion(path string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, d := range bi.Deps {
		if d.Path == path {
			if d.Replace != nil {
				return d.Replace.Version
			}
			return d.Version
		}
	}
	return ""
}

// hostHas maps the feature names the Makefile records to what this CPU has.
func hostHas() map[string]bool {
	return map[string]bool{
		"sse4_2":   cpu.X86.HasSSE42,
		"ssse3":    cpu.X86.HasSSSE3,
		"avx":      cpu.X86.HasAVX,
		"avx2":     cpu.X86.HasAVX2,
		"fma":      cpu.X86.HasFMA,
		"f16c":     hasF16C(),
		"bmi2":     cpu.X86.HasBMI2,
		"avx512f":  cpu.X86.HasAVX512F,
		"avx512bw": cpu.X86.HasAVX512BW,
		"avx512vl": cpu.X86.HasAVX512VL,
	}
}

// hasF16C: x/sys/cpu has no F16C flag; every CPU with AVX2 that Go supports
// also has F16C (Haswell, Zen and later), so AVX2 stands in for it.
func hasF16C() bool { return cpu.X86.HasAVX2 }

// CheckCPU returns an error naming the features the binary was compiled for
// that this CPU lacks. Native code would otherwise die with SIGILL at the
// first vector instruction.
func CheckCPU() error {
	if runtime.GOARCH != "amd64" || Features == "" {
		return nil
	}
	have := hostHas()
	var missing []string
	for f := range strings.SplitSeq(Features, ",") {
		if ok, known := have[f]; known && !ok {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("this binary was built for -march=%s and needs CPU features this machine lacks: %s; rebuild here (make build) or with a portable target (make build ISA=x86-64-v2)",
			ISA, strings.Join(missing, ", "))
	}
	return nil
}

// Class describes the vector extensions the native code uses, e.g.
// "AVX-512" or "AVX2".
func Class() string {
	f := "," + Features + ","
	switch {
	case strings.Contains(f, ",avx512f,"):
		return "AVX-512 (includes AVX2, FMA, F16C)"
	case strings.Contains(f, ",avx2,"):
		return "AVX2 (with FMA, F16C)"
	case strings.Contains(f, ",avx,"):
		return "AVX"
	case Features == "":
		return "unknown (built without the Makefile)"
	}
	return "SSE only"
}
