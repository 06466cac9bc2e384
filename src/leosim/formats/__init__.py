"""Every reader and writer of files: element sets, site lists, laser-link lists, policy,
jammer and sensor files, tables and strict JSON, and the package's own data files.

Readers turn text into plain records, each naming where it came from (``file:line``), and
raise the package's own errors naming the file, the line, the value received and what was
expected; the layers above build their objects from those records.
"""
