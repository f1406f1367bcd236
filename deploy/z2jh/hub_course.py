# Loaded by the hub pod from /usr/local/etc/jupyterhub/jupyterhub_config.d/ (hub.extraFiles.course).
# Course roles are hub groups (nbgrader's convention): nbgrader-kam-cert for learners,
# formgrade-kam-cert for instructors; the OIDC provider sends them (manage_groups).
# Learners' and instructors' servers differ by image: instructors get the course content image.
c = get_config()  # noqa: F821


def _image_by_role(spawner):
    groups = {g.name for g in spawner.user.groups}
    if "formgrade-kam-cert" in groups:
        spawner.image = "registry.example.cn/kam-cert/instructor:2026.12"
        spawner.environment["COURSE_EXCHANGE_MODE"] = "ngshare"


c.KubeSpawner.pre_spawn_hook = _image_by_role
