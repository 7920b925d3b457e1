# SPDX-License-Identifier: GPL-2.0
#
# Sphinx configuration of the ioasid documentation; scripts/docs runs it.
# The contracts are pulled from the headers and the C files by the kernel's
# own kernel-doc extension and script, taken from the unpacked linux-source
# named by KSRC in the environment (or -D kerneldoc_bin=... with the
# extension's directory on PYTHONPATH). Nothing is fetched over the network.

import os
import sys

ksrc = os.environ.get('KSRC')
if not ksrc:
    raise RuntimeError('KSRC (the unpacked linux-source) is not set; '
                       'build the documentation with scripts/docs')
sys.path.insert(0, os.path.join(ksrc, 'Documentation', 'sphinx'))

project = 'ioasid'
copyright = 'the ioasid authors; GPL-2.0'
root_doc = 'index'

extensions = ['kerneldoc']

# kernel-doc paths in the directives are relative to the repository's top.
kerneldoc_bin = os.path.join(ksrc, 'scripts', 'kernel-doc')
kerneldoc_srctree = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

primary_domain = 'c'
highlight_language = 'none'

# Attributes the C domain has to skip in kernel-doc's prototypes (a subset
# of the kernel's own Documentation/conf.py list).
c_id_attributes = [
    '__user',
    '__iomem',
    '__must_check',
    '__printf',
    '__always_inline',
    'noinline',
]

html_theme = 'alabaster'
html_static_path = []
html_copy_source = False
html_show_sourcelink = False
