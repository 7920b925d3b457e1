/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ioasid: types shared by the files of the driver. Not a contract: the
 * contracts are include/uapi/linux/ioasid.h and include/linux/ioasid.h.
 */

/**
 * DOC: Lock order
 *
 * Outer first (the one copy: Documentation/driver-api/ioasid.rst shows this
 * text)::
 *
 *     ioasid_ctx_list_lock   the list of open contexts (open, close, debugfs)
 *     ctx->show_sem          a context's debugfs walk (read, across printing
 *                            its objects); a free of one of them (write, a
 *                            barrier, nothing taken inside)
 *     igroup->lock           one IOMMU group's attachments (device.c): its
 *                            RID's and its devices' PASIDs'; held across a
 *                            whole attach, replay included. One group's at
 *                            a time: never two
 *     ioas->mutex            an IOAS: its areas, reserved regions, domains;
 *                            a software-nested child's is taken inside its
 *                            parent's (mutex_lock_nested)
 *     fq->mutex              a fault queue: its groups (fault.c); also taken
 *                            by the iopf handler, called with no ioasid lock
 *     (iommu core locks)     taken inside iommu_attach_group() and friends,
 *                            iopf_group_response()
 *
 * ctx->objects' xa_lock is a leaf: held only to look up, publish or remove
 * an entry (and by debugfs to count and find them), never across a call
 * out or anything that sleeps. ioasid_groups_lock is a leaf too: held only
 * to look up, create or free a group object (device.c), never with a
 * group's lock. ioasid_pin_share_lock (pages.c, the pins one process's maps
 * share) is a leaf: taken under ioas->mutex when an area's last reference
 * to its pages goes, never around pinning or a call out.
 */
#ifndef __IOASID_PRIVATE_H
#define __IOASID_PRIVATE_H

#include <linux/align.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/interval_tree.h>
#include <linux/iommu.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/refcount.h>
#include <linux/rwsem.h>
#include <linux/sched.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/xarray.h>
#include <linux/ioasid.h>
#include <uapi/linux/iommufd.h>
#include <uapi/linux/ioasid.h>

struct iommu_group;
struct seq_file;

/**
 * ioasid_range_last() - check a range user space (or a kAPI caller) passed
 * @start: first byte
 * @length: bytes
 * @align: what @start and @length must be multiples of, a power of two (1:
 *	anything)
 * @last: returns the last byte, @start + @length - 1
 *
 * The one check of every range that comes in: non-empty, aligned, and not
 * wrapping past ULONG_MAX.
 *
 * Return: 0, or -EINVAL.
 */
static inline int ioasid_range_last(u64 start, u64 length, u64 align,
				    unsigned long *last)
{
	u64 l;

	if (!length || !IS_ALIGNED(start | length, align) ||
	    check_add_overflow(start, length - 1, &l) || l > ULONG_MAX)
		return -EINVAL;
	*last = l;
	return 0;
}

enum ioasid_obj_type {
	IOASID_OBJ_NONE,
	IOASID_OBJ_ANY = IOASID_OBJ_NONE,
	IOASID_OBJ_IOAS,
	IOASID_OBJ_DEVICE,
	IOASID_OBJ_NESTED,
	IOASID_OBJ_FAULT_QUEUE,
	IOASID_OBJ_MAX,
};

/**
 * struct ioasid_obj - header of every object in a context's table
 * @type: what the object is; selects its ops
 * @id: index in ctx->objects, what user space names it by
 * @users: 1 for the table's own reference, plus one for each ioctl in flight
 *	and each object that depends on this one. Destroy succeeds only when
 *	the table holds the last reference.
 */
struct ioasid_obj {
	enum ioasid_obj_type type;
	u32 id;
	refcount_t users;
};

/**
 * struct ioasid_ctx - one open of /dev/ioasid
 * @file: the file this context belongs to; its lifetime is the file's
 * @objects: ID -> struct ioasid_obj; reserved (zero) entries are objects
 *	being built, invisible to lookups
 * @node: entry in the list of open contexts (debugfs)
 * @pid: thread group of the opener, for debugfs
 * @comm: command name of the opener, for debugfs
 * @show_sem: held for read by a debugfs walk over @objects, which prints
 *	each object without a reference of its own (a reference would make a
 *	concurrent IOASID_DESTROY fail with EBUSY); taken for write by
 *	ioasid_obj_sync_show() once an object is unpublished, before it is
 *	freed
 */
struct ioasid_ctx {
	struct file *file;
	struct xarray objects;
	struct list_head node;
	pid_t pid;
	char comm[TASK_COMM_LEN];
	struct rw_semaphore show_sem;
};

/**
 * struct ioasid_ucmd - one ioctl call being executed
 * @ctx: the context the call was made on
 * @ubuffer: the user's argument
 * @user_size: the size user space declared in the argument
 * @cmd: kernel copy of the argument, at least the kernel's struct size,
 *	zero-filled past what user space passed
 */
struct ioasid_ucmd {
	struct ioasid_ctx *ctx;
	void __user *ubuffer;
	u32 user_size;
	void *cmd;
};

int ioasid_ucmd_respond(struct ioasid_ucmd *ucmd, size_t len);
int ioasid_ucmd_respond_new(struct ioasid_ucmd *ucmd, size_t len,
			    const void *orig);

/* Object table (main.c) */
struct ioasid_obj *__ioasid_obj_alloc(struct ioasid_ctx *ctx,
				      enum ioasid_obj_type type, size_t size);
/* Allocates a struct whose first member is a struct ioasid_obj named obj. */
#define ioasid_obj_alloc(ctx, ptr, type)					\
	({									\
		static_assert(offsetof(typeof(*(ptr)), obj) == 0);		\
		(typeof(ptr))__ioasid_obj_alloc(ctx, type, sizeof(*(ptr)));	\
	})
void ioasid_obj_publish(struct ioasid_ctx *ctx, struct ioasid_obj *obj);
void ioasid_obj_abort(struct ioasid_ctx *ctx, struct ioasid_obj *obj);
struct ioasid_obj *ioasid_obj_get(struct ioasid_ctx *ctx, u32 id,
				  enum ioasid_obj_type type);
void ioasid_obj_put(struct ioasid_obj *obj);
/*
 * The body of each type's lookup (ioasid_get_ioas() and the others, paired
 * with a put, below each object's struct): ioasid_obj_get() of the type as
 * its struct. An ERR_PTR passes through container_of() unchanged, since obj
 * is the first member (which ioasid_obj_alloc() checks too).
 */
#define ioasid_obj_get_as(ctx, id, type, _struct)				\
	({									\
		static_assert(offsetof(_struct, obj) == 0);			\
		container_of(ioasid_obj_get(ctx, id, type), _struct, obj);	\
	})
void ioasid_obj_remove_wait(struct ioasid_ctx *ctx, struct ioasid_obj *obj);
const char *ioasid_obj_type_name(enum ioasid_obj_type type);
struct ioasid_obj *ioasid_obj_find_shown(struct ioasid_ctx *ctx,
					 unsigned long *index);
void ioasid_obj_show(struct seq_file *m, struct ioasid_obj *obj);

/* The open contexts (main.c), walked by debugfs */
extern struct mutex ioasid_ctx_list_lock;
extern struct list_head ioasid_ctx_list;

struct ioasid_pin_mm;

/**
 * struct ioasid_pages - one pinned run of user memory (pages.c)
 * @kref: one reference per area that maps (part of) it
 * @mm: the mm charged for it (grabbed), so the charge returns there
 * @pages: the pinned pages
 * @npages: how many
 * @writable: pinned with FOLL_WRITE
 * @uaddr: the user address it was pinned from, in @mm
 * @share_node: with @share, in its tree by user address
 * @share: the runs of @mm that later maps may share
 *	(IOASID_KERN_MAP_SHARE_PINS); NULL when this one is not shared
 */
struct ioasid_pages {
	struct kref kref;
	struct mm_struct *mm;
	struct page **pages;
	unsigned long npages;
	bool writable;
	unsigned long uaddr;
	struct interval_tree_node share_node;
	struct ioasid_pin_mm *share;
};

/*
 * Page @index of @pages: how every file but pages.c reads the array (pages.c
 * alone fills it, pins and unpins).
 */
static inline struct page *ioasid_pages_page(const struct ioasid_pages *pages,
					     unsigned long index)
{
	return pages->pages[index];
}

struct ioasid_pages *ioasid_pages_pin(unsigned long uaddr, unsigned long npages,
				      bool writable);
struct ioasid_pages *ioasid_pages_pin_shared(unsigned long uaddr,
					     unsigned long npages, bool writable,
					     unsigned long *pgoff);
void ioasid_pages_get(struct ioasid_pages *pages);
void ioasid_pages_put(struct ioasid_pages *pages);
unsigned long ioasid_pages_run(struct ioasid_pages *pages, unsigned long index,
			       unsigned long max, phys_addr_t *phys);

/**
 * struct ioasid_area - one mapping of an IOAS: IOVA range -> pinned pages
 * @node: in ioas->areas; node.start and node.last are @iova and @last
 * @iova: first IOVA
 * @last: last IOVA (inclusive)
 * @pages: the pages, referenced
 * @pgoff: index in @pages of the page mapped at @iova
 * @prot: IOMMU_READ and/or IOMMU_WRITE
 * @src_iova: in a software-nested IOAS, the parent IOVA @iova translates
 *	to (the area depends on the parent's [@src_iova, + length))
 */
struct ioasid_area {
	struct interval_tree_node node;
	unsigned long iova;
	unsigned long last;
	struct ioasid_pages *pages;
	unsigned long pgoff;
	int prot;
	unsigned long src_iova;
};

static inline unsigned long ioasid_area_npages(struct ioasid_area *area)
{
	return (area->last - area->iova + 1) >> PAGE_SHIFT;
}

/*
 * Software nesting: whether the child @area translates to any of its
 * parent's [iova, last] (then it goes whole when the parent unmaps any of
 * that range).
 */
static inline bool ioasid_area_depends_on(const struct ioasid_area *area,
					  unsigned long iova, unsigned long last)
{
	unsigned long src_last = area->src_iova + (area->last - area->iova);

	return area->src_iova <= last && src_last >= iova;
}

/* The first area intersecting [start, last], lowest IOVA first. */
static inline struct ioasid_area *
ioasid_area_first(struct rb_root_cached *areas, unsigned long start,
		  unsigned long last)
{
	struct interval_tree_node *node = interval_tree_iter_first(areas, start, last);

	return node ? container_of(node, struct ioasid_area, node) : NULL;
}

static inline struct ioasid_area *
ioasid_area_next(struct ioasid_area *area, unsigned long start,
		 unsigned long last)
{
	struct interval_tree_node *node;

	node = interval_tree_iter_next(&area->node, start, last);
	return node ? container_of(node, struct ioasid_area, node) : NULL;
}

/* Every area intersecting [start, last], in IOVA order. */
#define for_each_ioasid_area(area, areas, start, last)			\
	for (area = ioasid_area_first(areas, start, last); area;	\
	     area = ioasid_area_next(area, start, last))

/*
 * How long a wait that must not fail (for users of an object being removed,
 * for unmap callbacks in flight) waits before it warns, in seconds.
 */
#define IOASID_WAIT_WARN_SECS	120

/**
 * struct ioasid_domain - a paging domain an IOAS feeds (domain.c)
 * @node: in ioas->domains
 * @domain: the iommu_domain, allocated and freed by ioasid - or borrowed
 * @users: devices attached through it
 * @borrowed: @domain belongs to the subsystem that registered the device
 * @nest_parent: allocated as a nesting parent; nested objects count in
 *	@users too
 * @enforce_cc: ioasid made it enforce cache coherency (a borrowed one is
 *	not known to)
 */
struct ioasid_domain {
	struct list_head node;
	struct iommu_domain *domain;
	unsigned int users;
	bool borrowed;
	bool nest_parent;
	bool enforce_cc;
};

/**
 * struct ioasid_ioas - an I/O address space (ioas.c)
 * @obj: the object header
 * @mutex: protects every other member
 * @areas: interval tree of struct ioasid_area; ranges never overlap.
 *	Inserting and removing never allocates, so removal cannot fail.
 * @domains: struct ioasid_domain, each holding every area
 * @resv: struct ioasid_resv of attached devices; may overlap each other
 * @iova_alignment: PAGE_SIZE or the largest smallest-page of @domains
 * @aperture_start: first IOVA every domain translates
 * @aperture_last: last IOVA every domain translates
 * @no_huge: map every page with its own IOPTE
 * @nr_areas: number of areas (debugfs reads it unlocked)
 * @mapped: bytes mapped (debugfs reads it unlocked)
 * @nr_domains: number of domains (debugfs reads it unlocked)
 * @fault: the fault queue its domains deliver to (referenced), or NULL
 * @parent: for a software-nested IOAS, the parent (referenced) whose IOVAs
 *	its areas translate to; NULL otherwise
 * @children: the software-nested IOASes of this one, under @mutex
 * @child_node: in @parent's @children
 * @accesses: struct ioasid_access of emulated devices reading it (access.c)
 * @nr_accesses: number of @accesses (debugfs reads it unlocked)
 */
struct ioasid_ioas {
	struct ioasid_obj obj;
	struct mutex mutex;
	struct rb_root_cached areas;
	struct list_head domains;
	struct list_head resv;
	unsigned long iova_alignment;
	unsigned long aperture_start;
	unsigned long aperture_last;
	bool no_huge;
	unsigned long nr_areas;
	unsigned long mapped;
	unsigned int nr_domains;
	struct ioasid_fault_queue *fault;
	struct ioasid_ioas *parent;
	struct list_head children;
	struct list_head child_node;
	struct list_head accesses;
	unsigned int nr_accesses;
};

/* Return: the IOAS @id of @ctx, referenced, or ERR_PTR(-ENOENT). */
static inline struct ioasid_ioas *ioasid_get_ioas(struct ioasid_ctx *ctx, u32 id)
{
	return ioasid_obj_get_as(ctx, id, IOASID_OBJ_IOAS, struct ioasid_ioas);
}

static inline void ioasid_put_ioas(struct ioasid_ioas *ioas)
{
	ioasid_obj_put(&ioas->obj);
}

int ioasid_ioas_alloc_ioctl(struct ioasid_ucmd *ucmd);
int ioasid_map_ioctl(struct ioasid_ucmd *ucmd);
int ioasid_unmap_ioctl(struct ioasid_ucmd *ucmd);
int ioasid_copy_ioctl(struct ioasid_ucmd *ucmd);
int ioasid_iova_ranges_ioctl(struct ioasid_ucmd *ucmd);
int ioasid_ioas_option_ioctl(struct ioasid_ucmd *ucmd);
int ioasid_ioas_map_user(struct ioasid_ioas *ioas, unsigned long uaddr,
			 unsigned long length, unsigned long *iova, u32 flags,
			 u32 kflags);
int ioasid_ioas_unmap_range(struct ioasid_ioas *ioas, unsigned long iova,
			    unsigned long last, u32 flags,
			    struct ioasid_unmapped *res);
int ioasid_ioas_span(struct ioasid_ioas *ioas, unsigned long iova,
		     unsigned long last, bool writable, int prot);
void ioasid_ioas_abort(struct ioasid_obj *obj);
void ioasid_ioas_destroy(struct ioasid_obj *obj);
void ioasid_ioas_show(struct seq_file *m, struct ioasid_obj *obj);

/* Emulated-device accesses (access.c) */
int ioasid_access_unmap_begin(struct ioasid_ioas *ioas, unsigned long iova,
			      unsigned long last);
void ioasid_access_map_notify(struct ioasid_ioas *ioas, unsigned long iova,
			      unsigned long length);

/* The IOVA space of an IOAS (iova.c); all with ioas->mutex held */
int ioasid_iova_check(struct ioasid_ioas *ioas, unsigned long iova,
		      unsigned long length);
int ioasid_iova_alloc(struct ioasid_ioas *ioas, unsigned long length,
		      unsigned long align, unsigned long *iova);
int ioasid_iova_add_resv(struct ioasid_ioas *ioas, struct device *dev,
			 struct iommu_group *group, const void *owner);
void ioasid_iova_remove_resv(struct ioasid_ioas *ioas, const void *owner);
int ioasid_iova_ranges(struct ioasid_ioas *ioas, struct ioasid_iova_range *out,
		       unsigned int max);

/* Domains fed by an IOAS (domain.c); all with ioas->mutex held */
int ioasid_area_map_domains(struct ioasid_ioas *ioas, struct ioasid_area *area);
void ioasid_area_unmap_domains(struct ioasid_ioas *ioas, struct ioasid_area *area);
struct iommu_domain *ioasid_paging_domain_alloc(struct device *dev, u32 flags);
struct ioasid_attachment;
struct ioasid_target;
int ioasid_hw_attach(struct iommu_domain *domain, struct ioasid_attachment *att,
		     bool replace);
void ioasid_hw_detach(struct iommu_domain *domain, struct ioasid_attachment *att);
struct ioasid_domain *ioasid_domain_new_nest_parent(struct ioasid_ioas *ioas,
						    struct device *dev);
void ioasid_domain_unuse(struct ioasid_ioas *ioas, struct ioasid_domain *idom);

/**
 * struct ioasid_group - the attachments of one IOMMU group (device.c)
 * @node: in the table of groups, under ioasid_groups_lock
 * @users: registrations of devices of @group, under ioasid_groups_lock
 * @group: the IOMMU group, referenced
 * @lock: serialises every attach, replace and detach in the group: protects
 *	@attachments, each attachment on it, and the attachment state of each
 *	registration of the group (its @attached, @attached_pt_id writes,
 *	@member_node). Held across a whole attach, a replay included, so an
 *	attach elsewhere never waits for it
 * @attachments: struct ioasid_attachment: the group's RID (devices of one
 *	group share it) and its devices' PASIDs
 */
struct ioasid_group {
	struct list_head node;
	unsigned int users;
	struct iommu_group *group;
	struct mutex lock;
	struct list_head attachments;
};

/**
 * struct ioasid_handle - an attach handle of an attachment
 * @handle: what the IOMMU core finds the attachment of a page request by
 * @att: the attachment it belongs to
 */
struct ioasid_handle {
	struct iommu_attach_handle handle;
	struct ioasid_attachment *att;
};

/**
 * struct ioasid_target_ops - what an attachment does with one type of target
 * @fault: the fault queue @t delivers to, or NULL
 * @domain: the iommu_domain an attachment to @t is attached to
 * @attach: carve the device's reserved regions out of (the parent of) @t
 *	and point the hardware at it, installing the attach handle
 *	ioasid_att_handle(@att, @replace); for an IOAS, sets @t->idom. On
 *	failure nothing changed
 * @put: forget @att's current target, which the hardware left already
 *	(detach, or a replace into another one)
 * @detach: block @att (what @attach attached) and put its target
 *
 * One per type an attachment can translate through: an IOAS (domain.c) and
 * a nested object (nested.c).
 */
struct ioasid_target_ops {
	struct ioasid_fault_queue *(*fault)(const struct ioasid_target *t);
	struct iommu_domain *(*domain)(const struct ioasid_target *t);
	int (*attach)(struct ioasid_attachment *att, struct ioasid_target *t,
		      bool replace);
	void (*put)(struct ioasid_attachment *att);
	void (*detach)(struct ioasid_attachment *att);
};

extern const struct ioasid_target_ops ioasid_ioas_target_ops;
extern const struct ioasid_target_ops ioasid_nested_target_ops;

/**
 * struct ioasid_target - what an attachment translates through
 * @ops: the ops of its type
 * @obj: the IOAS or nested object, referenced by the attachment
 * @idom: for an IOAS, the domain of it the attachment goes through; NULL
 *	for a nested object
 */
struct ioasid_target {
	const struct ioasid_target_ops *ops;
	struct ioasid_obj *obj;
	struct ioasid_domain *idom;
};

/**
 * struct ioasid_attachment - one attached RID (of a group) or (device, PASID)
 * @node: in @igroup's @attachments
 * @dev: the device; for a RID several devices of the group share, the
 *	first of @members (never one that left)
 * @igroup: its group (the one of every device of @members)
 * @pasid: IOASID_PASID_NONE for the RID
 * @ctx: the context whose object it translates through
 * @target: what it translates through (an IOAS or a nested object)
 * @users: registrations using it: 1, or several sub-devices sharing it
 * @shared: made by a sub-device, so other sub-devices may share it
 * @own_domain: the registering subsystem's domain it must use, or NULL
 * @handles: the attach handles the IOMMU core routes this attachment's page
 *	faults by: @cur is the one installed. A replace installs the other, so
 *	an installed handle never changes under a page request the core is
 *	delivering through it (it reads the handle's domain more than once).
 *	The installed one also owns the reserved regions of @target the
 *	attachment added, so a replace between two targets sharing an IOAS
 *	(a nested object and its parent, two nested objects of one parent)
 *	adds the new ones before it drops the old without dropping the new
 * @cur: the index of the installed one of @handles
 * @dev_id: the dev_id of the first of @members, for fault records: the
 *	registration that made it, or once that one left, the earliest one
 *	still sharing it
 * @iopf: it delivers faults: IOPF is enabled on its behalf for the device
 *	of each of @members (once per member)
 * @members: the registrations using it (struct ioasid_device.member_node),
 *	oldest first; the attachment of a registration's own PASID (or RID)
 *	only, the only kind that can be shared
 *
 * Protected by @igroup's lock.
 */
struct ioasid_attachment {
	struct list_head node;
	struct device *dev;
	struct ioasid_group *igroup;
	u32 pasid;
	struct ioasid_ctx *ctx;
	struct ioasid_target target;
	unsigned int users;
	bool shared;
	struct iommu_domain *own_domain;
	struct ioasid_handle handles[2];
	unsigned int cur;
	u32 dev_id;
	bool iopf;
	struct list_head members;
};

/*
 * The installed attach handle of @att, or (@next) the one a replace
 * installs; each also owns the reserved regions its target got.
 */
static inline struct iommu_attach_handle *
ioasid_att_handle(struct ioasid_attachment *att, bool next)
{
	return &att->handles[next ? !att->cur : att->cur].handle;
}

/**
 * struct ioasid_device - a device a subsystem registered (device.c)
 * @obj: the object header; obj.id is the dev_id user space sees
 * @ctx: the context, whose file this device holds a reference on
 * @dev: the device
 * @group: its iommu_group, referenced
 * @igroup: the object of @group, referenced; its lock protects what this
 *	registration has attached
 * @pasid: IOASID_PASID_NONE for a whole device, else the one PASID this
 *	registration may attach
 * @ops: the registering subsystem's name and flags
 * @data: the subsystem's cookie
 * @attached: PASID (IOASID_PASID_NONE for the RID) -> struct
 *	ioasid_attachment this registration uses; under @igroup's lock
 * @attached_pt_id: what the registration's own RID or PASID (@pasid) is
 *	attached to, 0 if nothing (IOASID_DEVICE_INFO's attached_pt_id);
 *	written under @igroup's lock, read locklessly
 * @max_pasids: the PASID width the IOMMU core allows for @dev
 * @pgsize_bitmap: page sizes of a paging domain for @dev
 * @aperture_start: first IOVA a paging domain for @dev translates
 * @aperture_last: last IOVA a paging domain for @dev translates (inclusive)
 * @own_domain: the subsystem's own domain (register_device_to_pasid()), or
 *	NULL when the context allocates domains
 * @nesting_formats: enum ioasid_nested_format bits its IOMMU can nest
 * @member_node: in the @members of the attachment of @pasid (the RID for a
 *	whole device) while it uses one; under @igroup's lock
 */
struct ioasid_device {
	struct ioasid_obj obj;
	struct ioasid_ctx *ctx;
	struct device *dev;
	struct iommu_group *group;
	struct ioasid_group *igroup;
	u32 pasid;
	const struct ioasid_device_ops *ops;
	void *data;
	struct xarray attached;
	u32 attached_pt_id;
	u32 max_pasids;
	unsigned long pgsize_bitmap;
	unsigned long aperture_start;
	unsigned long aperture_last;
	struct iommu_domain *own_domain;
	u32 nesting_formats;
	struct list_head member_node;
};

/* Return: the device @id of @ctx, referenced, or ERR_PTR(-ENOENT). */
static inline struct ioasid_device *ioasid_get_device(struct ioasid_ctx *ctx, u32 id)
{
	return ioasid_obj_get_as(ctx, id, IOASID_OBJ_DEVICE, struct ioasid_device);
}

static inline void ioasid_put_device(struct ioasid_device *idev)
{
	ioasid_obj_put(&idev->obj);
}

int ioasid_device_info_ioctl(struct ioasid_ucmd *ucmd);
int ioasid_attach_ioctl(struct ioasid_ucmd *ucmd);
int ioasid_detach_ioctl(struct ioasid_ucmd *ucmd);
void ioasid_device_destroy(struct ioasid_obj *obj);
void ioasid_device_show(struct seq_file *m, struct ioasid_obj *obj);

/**
 * struct ioasid_nested - a user-owned stage 1 on an IOAS (nested.c)
 * @obj: the object header
 * @ioas: the parent IOAS (stage 2), referenced
 * @parent: the nesting-parent domain of @ioas the child hangs on; this
 *	object is one of its users
 * @domain: the nested domain the IOMMU driver made of the payload
 * @data_type: the payload's enum ioasid_nested_data_type
 * @fault: the fault queue its domain delivers to (referenced), or NULL
 */
struct ioasid_nested {
	struct ioasid_obj obj;
	struct ioasid_ioas *ioas;
	struct ioasid_domain *parent;
	struct iommu_domain *domain;
	u32 data_type;
	struct ioasid_fault_queue *fault;
};

/* Return: the nested object @id of @ctx, referenced, or ERR_PTR(-ENOENT). */
static inline struct ioasid_nested *ioasid_get_nested(struct ioasid_ctx *ctx, u32 id)
{
	return ioasid_obj_get_as(ctx, id, IOASID_OBJ_NESTED, struct ioasid_nested);
}

static inline void ioasid_put_nested(struct ioasid_nested *nested)
{
	ioasid_obj_put(&nested->obj);
}

int ioasid_nested_alloc_ioctl(struct ioasid_ucmd *ucmd);
int ioasid_invalidate_ioctl(struct ioasid_ucmd *ucmd);
void ioasid_nested_abort(struct ioasid_obj *obj);
void ioasid_nested_destroy(struct ioasid_obj *obj);
void ioasid_nested_show(struct seq_file *m, struct ioasid_obj *obj);
u32 ioasid_nested_formats(struct device *dev);

/**
 * struct ioasid_fault_queue - a queue of I/O page faults (fault.c)
 * @obj: the object header; its file holds a user reference while open
 * @ctx: the context; the open file holds a reference on its file
 * @mutex: protects everything below
 * @deliver: page-request groups not read yet, oldest first
 * @response: cookie -> group read and awaiting its response
 * @next_cookie: where the cyclic allocation of the next cookie starts
 * @wait: readers polling for @deliver
 * @depth: groups on @deliver plus in @response
 * @closed: the file is closed: new groups are answered at once
 * @delivered: groups queued so far
 * @overflows: groups answered "failure" because the queue was full/closed
 */
struct ioasid_fault_queue {
	struct ioasid_obj obj;
	struct ioasid_ctx *ctx;
	struct mutex mutex;
	struct list_head deliver;
	struct xarray response;
	u32 next_cookie;
	wait_queue_head_t wait;
	unsigned int depth;
	bool closed;
	u64 delivered;
	u64 overflows;
};

/* Return: the fault queue @id of @ctx, referenced, or ERR_PTR(-ENOENT). */
static inline struct ioasid_fault_queue *ioasid_get_fault_queue(struct ioasid_ctx *ctx, u32 id)
{
	return ioasid_obj_get_as(ctx, id, IOASID_OBJ_FAULT_QUEUE, struct ioasid_fault_queue);
}

static inline void ioasid_put_fault_queue(struct ioasid_fault_queue *fq)
{
	ioasid_obj_put(&fq->obj);
}

int ioasid_fault_queue_alloc_ioctl(struct ioasid_ucmd *ucmd);
void ioasid_fault_domain_init(struct iommu_domain *domain,
			      struct ioasid_fault_queue *fq);
void ioasid_fault_purge(struct ioasid_fault_queue *fq,
			struct iommu_attach_handle *handle);
int ioasid_iopf_enable(struct ioasid_group *igroup, struct device *dev);
void ioasid_iopf_disable(struct ioasid_group *igroup, struct device *dev);
void ioasid_fault_queue_abort(struct ioasid_obj *obj);
void ioasid_fault_queue_destroy(struct ioasid_obj *obj);
void ioasid_fault_queue_show(struct seq_file *m, struct ioasid_obj *obj);

/* debugfs (debugfs.c) */
void ioasid_debugfs_init(void);
void ioasid_debugfs_exit(void);

#endif /* __IOASID_PRIVATE_H */
