#!/usr/bin/env python3
"""Drives `imgform cloud serve` with the official Alibaba Cloud SDK for Python
(alibabacloud-ecs20140526) under both signature algorithms: the default ACS3-HMAC-SHA256
and signature_algorithm='v2' (RPC HMAC-SHA1).

The SDK maps answers leniently: a wrongly shaped container makes it set `response.body` to
None without raising, and a 200 carrying a Code is taken as success. Every call here is
therefore checked explicitly: the body must be parsed and every field the flow needs must be
present with the right type.

Usage: conformance.py PATH_TO_IMGFORM
Prints one line per check and a closing 'N passed, N failed' line; exits 1 on any failure.
"""
import os
import subprocess
import sys
import tempfile
import time

from alibabacloud_ecs20140526 import models as m
from alibabacloud_ecs20140526.client import Client
from alibabacloud_tea_openapi import models as om
from alibabacloud_tea_openapi.exceptions import ClientException

KEY, SECRET, REGION = "imgform-local", "imgform-local-secret", "cn-hangzhou"
passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name} {detail}")


def body(resp, name, *fields):
    """The parsed body, failing when the SDK swallowed a wrongly shaped answer."""
    b = resp.body
    ok = b is not None and getattr(b, "request_id", None)
    for f in fields:
        ok = ok and getattr(b, f, None) is not None
    check(f"{name}: body parsed with {', '.join(('request_id',) + fields)}", bool(ok), repr(getattr(resp, "body", None)))
    if not ok:
        raise SystemExit(finish())
    return b


def poll(name, fn, done, timeout=60):
    deadline = time.time() + timeout
    seen = []
    while time.time() < deadline:
        v = fn()
        if not seen or seen[-1] != v:
            seen.append(v)
        if done(v):
            check(f"{name} reached {v} via {' -> '.join(map(str, seen))}", True)
            return v
        time.sleep(0.1)
    check(f"{name} finished", False, f"states seen: {seen}")
    raise SystemExit(finish())


def client(endpoint, algorithm, secret=SECRET):
    cfg = om.Config(access_key_id=KEY, access_key_secret=secret, endpoint=endpoint, protocol="http", region_id=REGION)
    if algorithm:
        cfg.signature_algorithm = algorithm
    return Client(cfg)


def flow(c, label):
    name = f"conf-{label}-{int(time.time() * 1000) % 10**8}"
    # CreateImage with tags, then DescribeImages until Available.
    r = c.create_image(m.CreateImageRequest(region_id=REGION, snapshot_id="s-bp1system0001", image_name=name,
                                            tag=[m.CreateImageRequestTag(key="env", value="ci"), m.CreateImageRequestTag(key="team", value="blue")]))
    image_id = body(r, f"{label} CreateImage", "image_id").image_id
    check(f"{label} CreateImage returns an m- id", image_id.startswith("m-"), image_id)

    def image_status():
        d = body(c.describe_images(m.DescribeImagesRequest(region_id=REGION, image_id=image_id, status="Creating,Waiting,Available,UnAvailable,CreateFailed")),
                 f"{label} DescribeImages", "images", "total_count", "page_number", "page_size")
        imgs = d.images.image
        if not imgs:
            return "missing"
        i = imgs[0]
        assert i.progress is None or i.progress.endswith("%"), i.progress
        return i.status
    poll(f"{label} image {image_id}", image_status, lambda s: s == "Available")
    d = c.describe_images(m.DescribeImagesRequest(region_id=REGION, image_id=image_id, status="Available")).body
    img = d.images.image[0]
    tags = {t.tag_key: t.tag_value for t in img.tags.tag}
    check(f"{label} image tags round-trip", tags == {"env": "ci", "team": "blue"}, str(tags))
    ddm = img.disk_device_mappings.disk_device_mapping
    check(f"{label} DiskDeviceMapping.Size is a string", bool(ddm) and isinstance(ddm[0].size, str), repr(ddm and ddm[0].size))

    # The calls the SDKs make around images: ListTagResources, DescribeSnapshots,
    # DescribeInstances.
    d = body(c.list_tag_resources(m.ListTagResourcesRequest(region_id=REGION, resource_type="image", resource_id=[image_id])),
             f"{label} ListTagResources", "tag_resources")
    pairs = sorted((t.tag_key, t.tag_value) for t in d.tag_resources.tag_resource if t.resource_id == image_id)
    check(f"{label} ListTagResources lists the image's tags", pairs == [("env", "ci"), ("team", "blue")], str(pairs))
    d = body(c.describe_snapshots(m.DescribeSnapshotsRequest(region_id=REGION, snapshot_ids='["s-bp1system0001"]')),
             f"{label} DescribeSnapshots", "snapshots", "total_count")
    check(f"{label} DescribeSnapshots finds the snapshot", [x.snapshot_id for x in d.snapshots.snapshot] == ["s-bp1system0001"], str(d.to_map())[:200])
    d = body(c.describe_instances(m.DescribeInstancesRequest(region_id=REGION, page_size=100)), f"{label} DescribeInstances", "instances", "total_count")
    check(f"{label} DescribeInstances lists instances", len(d.instances.instance) == d.total_count > 0 and all(i.instance_id.startswith("i-") for i in d.instances.instance), str(d.to_map())[:200])
    # What a plan checks: an instance's lock, a snapshot's source disk, that disk now.
    d = body(c.describe_instances(m.DescribeInstancesRequest(region_id=REGION, instance_ids='["i-bp1locked"]')), f"{label} DescribeInstances by id", "instances")
    locks = [l.lock_reason for i in d.instances.instance for l in i.operation_locks.lock_reason]
    check(f"{label} DescribeInstances reports the security lock", locks == ["security"], str(d.to_map())[:300])
    d = body(c.describe_snapshots(m.DescribeSnapshotsRequest(region_id=REGION, snapshot_ids='["s-bp1released01"]')), f"{label} DescribeSnapshots of a released disk", "snapshots")
    snap = d.snapshots.snapshot[0] if d.snapshots.snapshot else None
    check(f"{label} DescribeSnapshots names the source disk", snap is not None and snap.source_disk_id == "d-bp1releasedsys" and snap.source_disk_type.lower() == "system", str(d.to_map())[:300])
    d = body(c.describe_disks(m.DescribeDisksRequest(region_id=REGION, disk_ids='["d-bp1releasedsys","d-bp1runningsys"]')), f"{label} DescribeDisks", "disks", "total_count")
    disks = {x.disk_id: (x.type, x.instance_id) for x in d.disks.disk}
    check(f"{label} DescribeDisks: a released instance's system disk is a free data disk", disks == {"d-bp1releasedsys": ("data", ""), "d-bp1runningsys": ("system", "i-bp1running")}, str(disks))

    # CopyImage to another region, DescribeImages there until Available; a second copy
    # cancelled with CancelCopyImage while it is in progress.
    r = c.copy_image(m.CopyImageRequest(region_id=REGION, image_id=image_id, destination_region_id="cn-shanghai",
                                        destination_image_name=f"{name}-copy", client_token=f"{name}-copy",
                                        tag=[m.CopyImageRequestTag(key="env", value="ci")]))
    copy_id = body(r, f"{label} CopyImage", "image_id").image_id
    check(f"{label} CopyImage returns an m- id", copy_id.startswith("m-") and copy_id != image_id, copy_id)
    poll(f"{label} copy {copy_id}", lambda: c.describe_images(m.DescribeImagesRequest(region_id="cn-shanghai", image_id=copy_id, status="Creating,Waiting,Available")).body.images.image[0].status, lambda s: s == "Available")
    cp = c.describe_images(m.DescribeImagesRequest(region_id="cn-shanghai", image_id=copy_id)).body.images.image[0]
    check(f"{label} the copy is marked IsCopied", cp.is_copied is True and cp.image_name == f"{name}-copy", str(cp.to_map())[:200])
    again = c.copy_image(m.CopyImageRequest(region_id=REGION, image_id=image_id, destination_region_id="cn-shanghai",
                                            destination_image_name=f"{name}-copy", client_token=f"{name}-copy",
                                            tag=[m.CopyImageRequestTag(key="env", value="ci")])).body.image_id
    check(f"{label} CopyImage with the same ClientToken answers the same copy", again == copy_id, again)
    r = c.copy_image(m.CopyImageRequest(region_id=REGION, image_id=image_id, destination_region_id="cn-beijing", destination_image_name=f"{name}-gone"))
    gone = r.body.image_id
    body(c.cancel_copy_image(m.CancelCopyImageRequest(region_id="cn-beijing", image_id=gone)), f"{label} CancelCopyImage")
    left = c.describe_images(m.DescribeImagesRequest(region_id="cn-beijing", image_id=gone, status="Creating,Waiting,Available,UnAvailable,CreateFailed")).body.images.image
    check(f"{label} a cancelled copy is gone", left == [], str(left))

    # ExportImage to OSS, then DescribeTasks (TaskAction=ExportImage) until Finished.
    r = c.export_image(m.ExportImageRequest(region_id=REGION, image_id=image_id, ossbucket="imgform-quickstart", ossprefix="conf", image_format="qcow2"))
    export_task = body(r, f"{label} ExportImage", "task_id").task_id

    def export_status():
        d = body(c.describe_tasks(m.DescribeTasksRequest(region_id=REGION, task_ids=export_task, task_action="ExportImage")), f"{label} DescribeTasks (export)", "task_set")
        t = d.task_set.task
        return t[0].task_status if t and t[0].task_action == "ExportImage" else "missing"
    poll(f"{label} export task {export_task}", export_status, lambda s: s == "Finished")

    # ModifyImageSharePermission, read back with DescribeImageSharePermission.
    body(c.modify_image_share_permission(m.ModifyImageSharePermissionRequest(region_id=REGION, image_id=image_id, add_account=["1234567890123"])),
         f"{label} ModifyImageSharePermission")
    d = body(c.describe_image_share_permission(m.DescribeImageSharePermissionRequest(region_id=REGION, image_id=image_id)),
             f"{label} DescribeImageSharePermission", "accounts", "image_id", "total_count", "page_number", "page_size")
    check(f"{label} the image is shared with the account", [a.aliyun_id for a in d.accounts.account] == ["1234567890123"], str(d.to_map()))
    c.modify_image_share_permission(m.ModifyImageSharePermissionRequest(region_id=REGION, image_id=image_id, remove_account=["1234567890123"]))
    d = c.describe_image_share_permission(m.DescribeImageSharePermissionRequest(region_id=REGION, image_id=image_id)).body
    check(f"{label} the sharing is removed", d.accounts.account == [] and d.total_count == 0, str(d.to_map()))

    # CreateImageComponent, DescribeImageComponents, DeleteImageComponent.
    r = c.create_image_component(m.CreateImageComponentRequest(region_id=REGION, name=f"{name}-comp", content="RUN echo hi",
                                                               system_type="Linux", component_type="Build"))
    comp = body(r, f"{label} CreateImageComponent", "image_component_id").image_component_id
    d = body(c.describe_image_components(m.DescribeImageComponentsRequest(region_id=REGION, image_component_id=[comp])),
             f"{label} DescribeImageComponents", "image_component", "total_count")
    sets = d.image_component.image_component_set
    check(f"{label} DescribeImageComponents finds the component", len(sets) == 1 and sets[0].name == f"{name}-comp" and sets[0].component_version == "1.0.0", str(d.to_map())[:300])
    body(c.delete_image_component(m.DeleteImageComponentRequest(region_id=REGION, image_component_id=comp)), f"{label} DeleteImageComponent")
    try:
        c.delete_image_component(m.DeleteImageComponentRequest(region_id=REGION, image_component_id=comp))
        check(f"{label} a deleted component is not found", False, "no exception")
    except ClientException as e:
        check(f"{label} a deleted component is not found (ImageComponent.NotFound, 404)", e.code == "ImageComponent.NotFound" and e.status_code == 404, f"{e.code} {e.status_code}")

    # ImportImage, then DescribeTasks until Finished.
    r = c.import_image(m.ImportImageRequest(region_id=REGION, image_name=f"{name}-imp", architecture="x86_64", platform="Ubuntu",
                                            disk_device_mapping=[m.ImportImageRequestDiskDeviceMapping(ossbucket="imgform-quickstart", ossobject="images/ubuntu-22.04.qcow2", format="QCOW2", disk_image_size=20)]))
    b = body(r, f"{label} ImportImage", "image_id", "task_id", "region_id")
    task_id, imported = b.task_id, b.image_id

    def task_status():
        d = body(c.describe_tasks(m.DescribeTasksRequest(region_id=REGION, task_ids=task_id)), f"{label} DescribeTasks", "task_set", "total_count")
        return d.task_set.task[0].task_status if d.task_set.task else "missing"
    poll(f"{label} import task {task_id}", task_status, lambda s: s == "Finished")
    poll(f"{label} imported image {imported}", lambda: c.describe_images(m.DescribeImagesRequest(region_id=REGION, image_id=imported, status="Creating,Waiting,Available")).body.images.image[0].status, lambda s: s == "Available")

    # CreateImagePipeline from the image, DescribeImagePipelines, a build to SUCCESS.
    r = c.create_image_pipeline(m.CreateImagePipelineRequest(region_id=REGION, base_image_type="IMAGE", base_image=image_id, name=f"{name}-pipe",
                                                             build_content="RUN echo hello", to_region_id=["cn-shanghai"], tag=[m.CreateImagePipelineRequestTag(key="env", value="ci")]))
    pipe = body(r, f"{label} CreateImagePipeline", "image_pipeline_id").image_pipeline_id
    d = body(c.describe_image_pipelines(m.DescribeImagePipelinesRequest(region_id=REGION, image_pipeline_id=[pipe])), f"{label} DescribeImagePipelines", "image_pipeline", "total_count")
    sets = d.image_pipeline.image_pipeline_set
    check(f"{label} DescribeImagePipelines finds the pipeline", len(sets) == 1 and sets[0].image_pipeline_id == pipe and sets[0].to_region_ids.to_region_id == ["cn-shanghai"], str(d.to_map())[:300])
    r = c.start_image_pipeline_execution(m.StartImagePipelineExecutionRequest(region_id=REGION, image_pipeline_id=pipe))
    ex = body(r, f"{label} StartImagePipelineExecution", "execution_id").execution_id

    def exec_status():
        d = body(c.describe_image_pipeline_executions(m.DescribeImagePipelineExecutionsRequest(region_id=REGION, execution_id=ex)),
                 f"{label} DescribeImagePipelineExecutions", "image_pipeline_execution", "total_count")
        s = d.image_pipeline_execution.image_pipeline_execution_set
        return s[0].status if s else "missing"
    poll(f"{label} build {ex}", exec_status, lambda s: s in ("SUCCESS", "FAILED", "CANCELLED", "TEST_FAILED"))
    d = c.describe_image_pipeline_executions(m.DescribeImagePipelineExecutionsRequest(region_id=REGION, execution_id=ex)).body
    e = d.image_pipeline_execution.image_pipeline_execution_set[0]
    check(f"{label} build succeeded with an image", e.status == "SUCCESS" and (e.image_id or "").startswith("m-"), str(e.to_map()))

    # DeleteImage.
    body(c.delete_image(m.DeleteImageRequest(region_id=REGION, image_id=imported, force=True)), f"{label} DeleteImage")
    left = c.describe_images(m.DescribeImagesRequest(region_id=REGION, image_id=imported, status="Creating,Waiting,Available,UnAvailable,CreateFailed")).body.images.image
    check(f"{label} deleted image is gone", left == [], str(left))

    # An error case: the SDK must raise ClientException with the right code.
    try:
        c.create_image(m.CreateImageRequest(region_id=REGION, snapshot_id="s-doesnotexist"))
        check(f"{label} unknown snapshot raises", False, "no exception")
    except ClientException as ex_:
        check(f"{label} unknown snapshot raises ClientException InvalidSnapshotId.NotFound (404)",
              ex_.code == "InvalidSnapshotId.NotFound" and ex_.status_code == 404 and bool(ex_.request_id), f"{ex_.code} {ex_.status_code}")


def finish():
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("IMGFORM_BIN", "target/debug/imgform")
    data = tempfile.mkdtemp(prefix="imgform-sdk-")
    proc = subprocess.Popen([binary, "cloud", "serve", "--listen", "127.0.0.1:0", "--data", data, "--speed", "600"],
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        if "listening on http://" not in line:
            print(f"FAIL the local cloud did not start: {line!r}")
            return 1
        endpoint = line.strip().rsplit("http://", 1)[1]
        for algorithm, label in ((None, "acs3"), ("v2", "rpc-v2")):
            flow(client(endpoint, algorithm), label)
            try:
                client(endpoint, algorithm, secret="wrong-secret").describe_regions(m.DescribeRegionsRequest())
                check(f"{label} wrong secret rejected", False, "no exception")
            except ClientException as e:
                check(f"{label} wrong secret rejected with SignatureDoesNotMatch", e.code == "SignatureDoesNotMatch" and e.status_code == 400, f"{e.code}")
        return finish()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
