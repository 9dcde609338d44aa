#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# gen.py MAP HOLDER_RIPS DAEMON_RIPS > idle-text.ld
# Maps the traced instruction addresses to the input sections of the link map (ld -Map) and
# writes a GNU ld script that puts those sections first, in one output section .text.idle
# before .text: what the holder runs, then what both run, then what only the daemon runs.
# libc's string functions are matched with every CPU variant (memmove-*.o ...), because the
# IFUNC chosen at run time depends on the machine.
import bisect, re, sys

def load_map(path):
    secs, pending = [], None
    for line in open(path):
        m = re.match(r'^ (\.text\S*)\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(\S+)', line)
        if m:
            secs.append((int(m.group(2), 16), int(m.group(3), 16), m.group(4), m.group(1)))
            pending = None
            continue
        m = re.match(r'^ (\.text\S*)\s*$', line)
        if m:
            pending = m.group(1)
            continue
        if pending:
            m = re.match(r'^\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(\S+)', line)
            if m:
                secs.append((int(m.group(1), 16), int(m.group(2), 16), m.group(3), pending))
            pending = None
    return sorted(s for s in secs if s[1] > 0)

def used(secs, path):
    starts = [s[0] for s in secs]
    out = {}
    for line in open(path):
        a = int(line, 16)
        i = bisect.bisect_right(starts, a) - 1
        if i >= 0 and secs[i][0] <= a < secs[i][0] + secs[i][1]:
            out.setdefault((secs[i][2], secs[i][3]), len(out))
    return sorted(out, key=out.get)

def main():
    secs = load_map(sys.argv[1])
    h, d = used(secs, sys.argv[2]), used(secs, sys.argv[3])
    hs, ds = set(h), set(d)
    order = [k for k in h if k in ds] + [k for k in h if k not in ds] + [k for k in d if k not in hs]
    pats = {}
    for f, sec in order:
        m = re.match(r'.*/(lib[^/]*\.a)\((.*)\)$', f)
        lib, mem = (m.group(1), m.group(2)) if m else ('', f.split('/')[-1])
        secset = pats.setdefault((lib, mem), set())
        if lib == 'libc.a':
            v = re.match(r'^((?:mem|str|stp|wmem|wcs|raw)\w*?)-(?:avx|evex|sse)', mem)
            if v:
                del pats[(lib, mem)]
                mem = v.group(1) + '-*.o'
                secset = pats.setdefault((lib, mem), set())
                secset.update({'.text', '.text.avx', '.text.avx512', '.text.evex',
                               '.text.evex512', '.text.sse2'})
        secset.add(sec)
    print('/* src/idle-text.ld - made by tests/bench/idle-text/gen.sh: the code an idle holder and')
    print(' * daemon run, first in the text (see the Makefile, SPEC 10.3).  Regenerate, do not edit. */')
    print('SECTIONS\n{\n  .text.idle :\n  {')
    for (lib, mem), ss in pats.items():
        where = '*%s:%s' % (lib, mem) if lib else '*%s' % mem
        print('    %s(%s)' % (where, ' '.join(sorted(ss))))
    print('  }\n}\nINSERT BEFORE .text;')

main()
