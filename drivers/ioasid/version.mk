# SPDX-License-Identifier: GPL-2.0
# MODULE_VERSION() of ioasid.ko and ioasid_vfio.ko: dkms.conf's
# PACKAGE_VERSION, the one place the version is written.
ioasid-dkms-conf := $(dir $(lastword $(MAKEFILE_LIST)))../../dkms.conf
ioasid-version := $(shell sed -n 's/^PACKAGE_VERSION="\([^"]*\)"$$/\1/p' $(ioasid-dkms-conf) 2>/dev/null)
ifeq ($(ioasid-version),)
$(error ioasid: no PACKAGE_VERSION in $(ioasid-dkms-conf))
endif
ccflags-y += -DIOASID_VERSION='"$(ioasid-version)"'
