-- CreateTable
CREATE TABLE "ProjectBlob" (
    "projectId" TEXT NOT NULL,
    "sha256" TEXT NOT NULL,
    "size" INTEGER NOT NULL,
    "data" BYTEA NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ProjectBlob_pkey" PRIMARY KEY ("projectId","sha256")
);

-- AddForeignKey
ALTER TABLE "ProjectBlob" ADD CONSTRAINT "ProjectBlob_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "Project"("id") ON DELETE CASCADE ON UPDATE CASCADE;
