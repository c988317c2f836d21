#!/usr/bin/env python3
"""The layering of src/, read from the build and checked against every #include.

The CMake files state it (docs/ARCHITECTURE.md): each folder of src/ builds its libraries, an
internal one with vrt_add_layer(NAME ... USES lower layers) or a public one (voxtral_rt*, whose
users see include/ only). A folder may include the headers of its own folder and of the internal
layers its targets link, transitively through their USES; the public headers (voxtral_rt/...)
everywhere. This script fails on:
  - a cycle among the targets' link dependencies,
  - an #include "folder/..." that the folder's links do not allow,
  - a public header (include/) that includes anything of src/,
  - a folder of src/ whose CMakeLists.txt defines no target.

  check_layering.py SOURCE_DIR        (exit status 1 and one line per violation)
"""
import os
import re
import sys

TARGET_RE = re.compile(r"\b(vrt_\w+|voxtral_rt\w*)\b")


def calls(text, name):
    """The argument text of every call name( ... ) in a CMake file (nested parentheses allowed)."""
    out = []
    for m in re.finditer(r"\b" + name + r"\s*\(", text):
        depth, i = 1, m.end()
        while depth and i < len(text):
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            i += 1
        out.append(text[m.end():i - 1])
    return out


def strip_comments(text):
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


def read_build(src):
    folder_of, deps, internal = {}, {}, set()
    for folder in sorted(os.listdir(src)):
        path = os.path.join(src, folder, "CMakeLists.txt")
        if not os.path.isdir(os.path.join(src, folder)):
            continue
        if not os.path.exists(path):
            yield_error(f"src/{folder}: no CMakeLists.txt")
            continue
        text = strip_comments(open(path).read())
        defined = []
        for args in calls(text, "vrt_add_layer"):
            name = args.split()[0]
            internal.add(name)
            defined.append(name)
            uses = re.search(r"\bUSES\b(.*?)(\bLIBS\b|\bSOURCES\b|$)", args, re.S)
            deps.setdefault(name, set()).update(TARGET_RE.findall(uses.group(1)) if uses else [])
        for fn in ("add_library", "add_executable"):
            for args in calls(text, fn):
                defined.append(args.split()[0])
        for args in calls(text, "target_link_libraries"):
            words = args.split()
            deps.setdefault(words[0], set()).update(w for w in TARGET_RE.findall(" ".join(words[1:])) if w != words[0])
        if not defined:
            yield_error(f"src/{folder}/CMakeLists.txt defines no target")
        for t in defined:
            folder_of[t] = folder
            deps.setdefault(t, set())
    return folder_of, deps, internal


ERRORS = []


def yield_error(msg):
    ERRORS.append(msg)


def find_cycle(deps):
    state = {}

    def visit(t, path):
        state[t] = 1
        for d in sorted(deps.get(t, ())):
            if state.get(d) == 1:
                return path + [t, d]
            if d not in state:
                c = visit(d, path + [t])
                if c:
                    return c
        state[t] = 2
        return None

    for t in sorted(deps):
        if t not in state:
            c = visit(t, [])
            if c:
                return c[c.index(c[-1]):]
    return None


def main():
    root = sys.argv[1]
    src = os.path.join(root, "src")
    folder_of, deps, internal = read_build(src)
    unknown = sorted({d for ds in deps.values() for d in ds if d not in folder_of})
    for d in unknown:
        yield_error(f"a link to {d}, which no src/ CMakeLists.txt defines")
    cycle = find_cycle(deps)
    if cycle:
        yield_error("link cycle: " + " -> ".join(cycle))

    def reach(t, seen):  # internal layers whose headers t's code may include
        for d in deps.get(t, ()):
            if d in internal and d not in seen:
                seen.add(d)
                reach(d, seen)  # USES are PUBLIC: a layer's headers may expose its own uses
        return seen

    folders = sorted(f for f in os.listdir(src) if os.path.isdir(os.path.join(src, f)))
    allowed = {f: {f} for f in folders}
    for t, f in folder_of.items():
        allowed[f] |= {folder_of[d] for d in reach(t, set())}

    include_re = re.compile(r'^\s*#\s*include\s*"([^"/]+)/', re.M)
    for f in folders:
        for dirpath, _, files in os.walk(os.path.join(src, f)):
            for name in sorted(files):
                if not name.endswith((".h", ".cpp", ".c", ".inc")):
                    continue
                path = os.path.join(dirpath, name)
                for m in include_re.finditer(open(path, errors="replace").read()):
                    top = m.group(1)
                    if top in folders and top not in allowed[f]:
                        rel = os.path.relpath(path, root)
                        yield_error(f"{rel}: includes {top}/, which src/{f} does not link "
                                    f"(it may include: {', '.join(sorted(allowed[f]))}, voxtral_rt/)")
    for dirpath, _, files in os.walk(os.path.join(root, "include")):
        for name in files:
            path = os.path.join(dirpath, name)
            for m in include_re.finditer(open(path, errors="replace").read()):
                if m.group(1) in folders:
                    yield_error(f"{os.path.relpath(path, root)}: a public header includes src/{m.group(1)}/")

    for e in ERRORS:
        print(e)
    if not ERRORS:
        graph = ", ".join(f"{t} -> {' '.join(sorted(d)) or '-'}" for t, d in sorted(deps.items()))
        print(f"layering ok: {len(folder_of)} targets in {len(folders)} folders, no cycle; {graph}")
    return 1 if ERRORS else 0


if __name__ == "__main__":
    sys.exit(main())
