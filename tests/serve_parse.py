"""serve_parse.py — a strict reader of the Prometheus text format for the
serve tests: parse(text) -> (types, samples) where samples is a list of
(name, labels dict, value).  Label values are unescaped (\\\\, \\", \\n);
any other escape, a raw newline in a value or a malformed line raises."""
import re

NAME = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*')


def parse_labels(s, i):
    labels = {}
    assert s[i] == '{'
    i += 1
    while s[i] != '}':
        m = NAME.match(s, i)
        assert m, "label name at %r" % s[i:i + 20]
        key = m.group(0)
        i = m.end()
        assert s[i:i + 2] == '="', "label %s" % key
        i += 2
        val = []
        while s[i] != '"':
            c = s[i]
            assert c != '\n'
            if c == '\\':
                n = s[i + 1]
                assert n in '\\"n', "bad escape \\%s" % n
                val.append('\n' if n == 'n' else n)
                i += 2
            else:
                val.append(c)
                i += 1
        i += 1
        labels[key] = ''.join(val)
        if s[i] == ',':
            i += 1
    return labels, i + 1


def parse(text):
    types, samples = {}, []
    for line in text.split('\n'):
        if not line:
            continue
        if line.startswith('#'):
            parts = line.split(' ', 3)
            if parts[1] == 'TYPE':
                types[parts[2]] = parts[3]
            continue
        m = NAME.match(line)
        assert m, line
        name, i = m.group(0), m.end()
        labels = {}
        if line[i] == '{':
            labels, i = parse_labels(line, i)
        assert line[i] == ' ', line
        samples.append((name, labels, float(line[i + 1:])))
    return types, samples
