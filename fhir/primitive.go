package fhir

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Lexical checks of the primitive types. Each follows the regex of the type's
// StructureDefinition (kept in the tables; primitive_test.go compares the two on a corpus)
// and, for dates, also the calendar, as HL7's validator does. They are hand-written
// because regexp is far too slow to run on every value of every streamed item.

// checkPrimitive returns "" when s is a valid lexical form of the string-valued
// primitive p, or a message saying why not.
func checkPrimitive(p primKind, s string) string {
	switch p {
	case primString, primMarkdown:
		return checkString(s)
	case primCode:
		return checkCode(s)
	case primID:
		return checkID(s)
	case primURI, primURL, primCanonical:
		return checkURI(s)
	case primOID:
		return checkOID(s)
	case primUUID:
		return checkUUID(s)
	case primDate:
		return checkDateTime(s, false, false)
	case primDateTime:
		return checkDateTime(s, true, false)
	case primInstant:
		return checkDateTime(s, true, true)
	case primTime:
		if _, ok := scanTime(s, 0); !ok {
			return "not a valid time (hh:mm:ss)"
		}
		return ""
	case primBase64Binary:
		return checkBase64(s)
	case primXhtml:
		if s == "" {
			return "empty"
		}
		return ""
	case primDecimal:
		if !validDecimal(s) {
			return "not a valid decimal"
		}
		return ""
	case primInteger, primPositiveInt, primUnsignedInt:
		return checkInteger(p, s)
	}
	return ""
}

// maxStringBytes is FHIR's limit on string size (1 MB).
const maxStringBytes = 1024 * 1024

func checkString(s string) string {
	if s == "" {
		return "empty strings are not allowed"
	}
	if len(s) > maxStringBytes {
		return "longer than 1 MB"
	}
	// [ \r\n\t\S]+: whitespace other than space, CR, LF and tab is not allowed.
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			return "control character U+" + strconv.FormatInt(int64(c), 16) + " is not allowed"
		}
	}
	if !utf8.ValidString(s) {
		return "invalid UTF-8"
	}
	return ""
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// checkCode: [^\s]+(\s[^\s]+)* — no leading, trailing or doubled whitespace.
func checkCode(s string) string {
	if s == "" {
		return "empty"
	}
	if isSpace(s[0]) || isSpace(s[len(s)-1]) {
		return "leading or trailing whitespace"
	}
	for i := 1; i < len(s); i++ {
		if isSpace(s[i]) && isSpace(s[i-1]) {
			return "repeated whitespace"
		}
	}
	return checkString(s)
}

// checkID: [A-Za-z0-9\-\.]{1,64}.
func checkID(s string) string {
	if s == "" {
		return "empty"
	}
	if len(s) > 64 {
		return "too long (" + strconv.Itoa(len(s)) + " chars, at most 64)"
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return "invalid character " + strconv.QuoteRune(rune(c)) + " (only A-Z a-z 0-9 - . are allowed)"
		}
	}
	return ""
}

// checkURI: \S* — no whitespace.
func checkURI(s string) string {
	if s == "" {
		return "empty"
	}
	for i := 0; i < len(s); i++ {
		if isSpace(s[i]) {
			return "URIs cannot contain whitespace"
		}
	}
	return checkString(s)
}

// checkOID: urn:oid:[0-2](\.(0|[1-9][0-9]*))+.
func checkOID(s string) string {
	const bad = "not a valid OID (urn:oid:...)"
	rest, ok := strings.CutPrefix(s, "urn:oid:")
	if !ok || len(rest) < 3 || rest[0] < '0' || rest[0] > '2' || rest[1] != '.' {
		return bad
	}
	for _, arc := range strings.Split(rest[2:], ".") {
		if arc == "" || (arc[0] == '0' && len(arc) > 1) {
			return bad
		}
		for i := 0; i < len(arc); i++ {
			if arc[i] < '0' || arc[i] > '9' {
				return bad
			}
		}
	}
	return ""
}

// checkUUID: urn:uuid: followed by lower-case 8-4-4-4-12 hex.
func checkUUID(s string) string {
	rest, ok := strings.CutPrefix(s, "urn:uuid:")
	if !ok || !isLowerUUID(rest) {
		return "not a valid UUID (urn:uuid: and lower-case 8-4-4-4-12 hex)"
	}
	return ""
}

func isLowerUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				return false
			}
		}
	}
	return true
}

func checkBase64(s string) string {
	// (\s*([0-9a-zA-Z\+/=]){4}\s*)+: groups of four, whitespace allowed between groups.
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '+', c == '/', c == '=':
			n++
		case isSpace(c):
			if n%4 != 0 {
				return "not valid base64 (whitespace inside a group of four)"
			}
		default:
			return "not valid base64 (character " + strconv.QuoteRune(rune(c)) + ")"
		}
	}
	if n == 0 || n%4 != 0 {
		return "not valid base64 (length is not a multiple of 4)"
	}
	return ""
}

// validDecimal: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?  (JSON number syntax).
func validDecimal(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	return i == len(s)
}

func checkInteger(p primKind, s string) string {
	digits := strings.TrimPrefix(s, "-")
	if p != primInteger && digits != s {
		return "must not be negative"
	}
	if digits == "" || (digits[0] == '0' && len(digits) > 1) {
		return "not a valid integer"
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return "not a valid integer"
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v > math.MaxInt32 || v < math.MinInt32 {
		return "outside the 32-bit integer range"
	}
	switch {
	case p == primPositiveInt && v < 1:
		return "must be a positive integer (1 or more)"
	case p == primUnsignedInt && v < 0:
		return "must not be negative"
	}
	return ""
}

// checkDateTime checks date (YYYY, YYYY-MM, YYYY-MM-DD), dateTime (a date, or a full
// date with a time and a zone) and instant (always full, with a zone).
func checkDateTime(s string, allowTime, instant bool) string {
	what := "date"
	switch {
	case instant:
		what = "instant"
	case allowTime:
		what = "dateTime"
	}
	bad := "not a valid " + what
	if len(s) < 4 {
		return bad
	}
	year, ok := digitsAt(s, 0, 4)
	if !ok || year == 0 {
		return bad + " (year)"
	}
	if len(s) == 4 {
		if instant {
			return bad + " (an instant needs a full date and time)"
		}
		return ""
	}
	if s[4] != '-' || len(s) < 7 {
		return bad
	}
	month, ok := digitsAt(s, 5, 2)
	if !ok || month < 1 || month > 12 {
		return bad + " (month)"
	}
	if len(s) == 7 {
		if instant {
			return bad + " (an instant needs a full date and time)"
		}
		return ""
	}
	if s[7] != '-' || len(s) < 10 {
		return bad
	}
	day, ok := digitsAt(s, 8, 2)
	if !ok || day < 1 || day > daysIn(year, month) {
		return bad + " (day)"
	}
	if len(s) == 10 {
		if instant {
			return bad + " (an instant needs a time and a time zone)"
		}
		return ""
	}
	if !allowTime || s[10] != 'T' {
		return bad
	}
	i, ok := scanTime(s, 11)
	if !ok {
		return bad + " (time)"
	}
	if i == len(s) {
		return "if a date has a time, it must have a timezone"
	}
	switch s[i] {
	case 'Z':
		i++
	case '+', '-':
		hh, ok1 := digitsAt(s, i+1, 2)
		mm, ok2 := digitsAt(s, i+4, 2)
		if !ok1 || !ok2 || len(s) < i+6 || s[i+3] != ':' || mm > 59 || hh > 14 || (hh == 14 && mm != 0) {
			return bad + " (time zone)"
		}
		i += 6
	default:
		return bad + " (time zone)"
	}
	if i != len(s) {
		return bad
	}
	return ""
}

// scanTime reads hh:mm:ss(.fff)? at s[i:] and returns the offset after it.
func scanTime(s string, i int) (int, bool) {
	hh, ok1 := digitsAt(s, i, 2)
	mm, ok2 := digitsAt(s, i+3, 2)
	ss, ok3 := digitsAt(s, i+6, 2)
	if !ok1 || !ok2 || !ok3 || s[i+2] != ':' || s[i+5] != ':' || hh > 23 || mm > 59 || ss > 60 {
		return 0, false
	}
	i += 8
	if i < len(s) && s[i] == '.' {
		i++
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == start {
			return 0, false
		}
	}
	return i, true
}

func digitsAt(s string, i, n int) (int, bool) {
	if i < 0 || i+n > len(s) {
		return 0, false
	}
	v := 0
	for _, c := range []byte(s[i : i+n]) {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

func daysIn(year, month int) int {
	switch month {
	case 4, 6, 9, 11:
		return 30
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	}
	return 31
}
