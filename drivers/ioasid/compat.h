/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ioasid: what ioasid mirrors of the IOMMU core's internals - the one file
 * a kernel version bump has to revisit. Included by the files that use
 * them (domain.c in ioasid.ko, the test mock), each module importing the
 * namespace once.
 *
 * The IOMMU core exports the attach-handle functions below for iommufd
 * only: in the namespace IOMMUFD_INTERNAL, with their prototypes in its
 * private drivers/iommu/iommu-priv.h, which no headers package ships. They
 * are declared here as Linux 6.12 has them. The test mock also builds
 * dev->iommu the way 6.12's dev_iommu_get() and iommu_fwspec_init() do
 * (mock_dev_iommu_init()). Re-check all of it against iommu-priv.h and
 * iommu.c before building for any other kernel.
 */
#ifndef __IOASID_COMPAT_H
#define __IOASID_COMPAT_H

#include <linux/iommu.h>
#include <linux/module.h>
#include <linux/version.h>

#if LINUX_VERSION_MAJOR != 6 || LINUX_VERSION_PATCHLEVEL != 12
#error "ioasid mirrors iommu core internals of Linux 6.12 only (compat.h)"
#endif

MODULE_IMPORT_NS(IOMMUFD_INTERNAL);

/* Attach, hitless replace and detach of a group's RID with an attach handle. */
int iommu_attach_group_handle(struct iommu_domain *domain,
			      struct iommu_group *group,
			      struct iommu_attach_handle *handle);
void iommu_detach_group_handle(struct iommu_domain *domain,
			       struct iommu_group *group);
int iommu_replace_group_handle(struct iommu_group *group,
			       struct iommu_domain *new_domain,
			       struct iommu_attach_handle *handle);

/* The attach handle the core routes a page request by, as its fault path finds it. */
struct iommu_attach_handle *iommu_attach_handle_get(struct iommu_group *group,
						    ioasid_t pasid,
						    unsigned int type);

#endif /* __IOASID_COMPAT_H */
